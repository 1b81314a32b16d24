import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochPlan } from '../../../server/sampling/epoch-plan.js';
import { indexLabels, labelVoxelCount, nthLabelVoxel } from '../../../server/sampling/label-index.js';
import { findMaskBox } from '../../../server/sampling/mask-box.js';
import { planSample, type SampleContext } from '../../../server/sampling/plan-sample.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import type { Shape3, Volume } from '../../../server/sampling/types.js';
import { sphereVolume, syntheticCatalog } from './synthetic-catalog.js';

/** The phantom-style volume of a series with nodule k labelled 1 + (k mod 3) (later nodules win overlaps). */
function labelledVolume(summary: Parameters<typeof sphereVolume>[0]): Volume {
  const mask = new Uint8Array(sphereVolume(summary).mask.length);
  summary.nodules.forEach((nodule, k) => {
    const one = sphereVolume({ ...summary, nodules: [nodule] }).mask;
    one.forEach((v, i) => {
      if (v !== 0) mask[i] = 1 + (k % 3);
    });
  });
  const base = sphereVolume(summary);
  return { shape: summary.shape, image: base.image, mask, maskBox: findMaskBox(mask, summary.shape) };
}

describe('label index', () => {
  it('finds the r-th voxel of every label, background included, in C order', () => {
    const shape: Shape3 = [5, 6, 7];
    const mask = Uint8Array.from({ length: 210 }, (_, i) => [0, 0, 3, 1, 0, 7][(i * 13) % 6]!);
    const volume: Volume = { shape, image: new Uint8Array(210), mask };
    const index = indexLabels(mask, shape, findMaskBox(mask, shape));
    assert.deepEqual(index.labels, [1, 3, 7]);
    for (const label of [0, 1, 3, 7]) {
      const positions = [...mask.keys()].filter((i) => mask[i] === label);
      assert.equal(labelVoxelCount(volume, index, label), positions.length);
      positions.forEach((at, rank) => {
        const [x0, x1, x2] = nthLabelVoxel(volume, index, label, rank);
        assert.equal((x0 * 6 + x1) * 7 + x2, at, `label ${label} rank ${rank}`);
      });
    }
  });
});

describe('label sampling (RandCropByLabelClasses)', () => {
  it('centres every crop on a voxel of the drawn label, at about the ratios, over many seeds', () => {
    const ratios = [1, 2, 0, 3];
    const counts = [0, 0, 0, 0];
    let forcedBackground = 0;
    for (let key = 0; key < 40; key++) {
      const series = syntheticCatalog(300 + key, 5);
      const volumes = series.map(labelledVolume);
      const policy = resolveSamplingPolicy({
        negativesPerEpoch: 30,
        labelRatios: ratios,
        foregroundShare: 0.5,
      });
      const seed = BigInt(key) + 17n;
      const plan = createEpochPlan({ series, policy, seed, epoch: 0 });
      const context: SampleContext = {
        plan,
        series,
        policy,
        seed,
        epoch: 0,
        cropSize: [4, 6, 6],
        batchSize: 4,
      };
      for (let position = 0; position < plan.size; position++) {
        const sample = planSample(context, position, (s) => volumes[s]);
        const volume = volumes[sample.series]!;
        const present = new Set([0, ...indexLabels(volume.mask, volume.shape, volume.maskBox).labels]);
        if (sample.mode === 'negative') {
          // Only when no present label weighs anything: here, a series holding label 2 alone in a forced slot.
          assert.ok(
            ![...present].some((label) => (ratios[label] ?? 0) > 0 && (label > 0 || position % 4 < 2)),
          );
          continue;
        }
        assert.equal(sample.mode, 'label');
        const label = sample.label!;
        const [n0, n1, n2] = volume.shape;
        const c = [sample.origin[0] + 2, sample.origin[1] + 3, sample.origin[2] + 3];
        assert.ok(c[0]! >= 0 && c[0]! < n0 && c[1]! >= 0 && c[1]! < n1 && c[2]! >= 0 && c[2]! < n2);
        assert.equal(volume.mask[(c[0]! * n1 + c[1]!) * n2 + c[2]!], label);
        assert.ok(label !== 2 && present.has(label));
        if (position % 4 >= 2 && label === 0) forcedBackground++;
        if (position % 4 < 2 && present.has(1) && present.has(3)) counts[label]!++;
      }
    }
    assert.equal(forcedBackground, 0, 'forced foreground slots never centre on background');
    // In series holding labels 0, 1 and 3, unforced slots draw them with weights 1, 2 and 3: each frequency
    // within five binomial standard deviations.
    const total = counts.reduce((sum, count) => sum + count, 0);
    assert.ok(total > 200, `only ${total} samples in series holding every label`);
    for (const [label, p] of [
      [0, 1 / 6],
      [1, 2 / 6],
      [3, 3 / 6],
    ] as const) {
      const slack = 5 * Math.sqrt((p * (1 - p)) / total);
      assert.ok(Math.abs(counts[label]! / total - p) < slack, `label ${label}: ${JSON.stringify(counts)}`);
    }
  });
});
