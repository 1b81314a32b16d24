import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Batch, CropMode } from '@voxelfeed/proto';
import { NORMAL_QUANTILES } from '../../../server/sampling/gaussian-noise.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import { type InProcessDataset, serveInProcess } from '../../support/in-process-dataset.js';
import { writeRandomVoxelDataset } from '../../support/random-voxel-dataset.js';

const run = promisify(execFile);
const REFERENCE = new URL('./augment-reference.py', import.meta.url).pathname;

/** Every transform at 0.5, ranges wide enough that clamping and rounding in uint8 both happen. */
const EVERYTHING = {
  flipProb: 0.5,
  rotate90Prob: 0.5,
  scaleIntensityProb: 0.5,
  scaleIntensityFactor: 0.4,
  shiftIntensityProb: 0.5,
  shiftIntensityOffset: 0.2,
  adjustContrastProb: 0.5,
  gammaMin: 0.5,
  gammaMax: 2,
  gaussianNoiseProb: 0.5,
  gaussianNoiseStd: 0.3,
};

function sampleForPython(sample: Batch['samples'][number]) {
  return {
    index: Number(sample.index),
    seriesUid: sample.seriesUid,
    origin: sample.origin,
    augmentation: sample.augmentation,
    mode: sample.mode === CropMode.CROP_MODE_LABEL ? 'label' : 'other',
    label: sample.label,
  };
}

describe('augmented crops against numpy', () => {
  let root: string;
  let files: Awaited<ReturnType<typeof writeRandomVoxelDataset>>;
  let served: InProcessDataset;
  let labelled: Awaited<ReturnType<typeof writeRandomVoxelDataset>>;
  let servedLabels: InProcessDataset;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-augment-'));
    files = await writeRandomVoxelDataset(path.join(root, 'data'), 3);
    served = await serveInProcess(path.join(root, 'data'));
    labelled = await writeRandomVoxelDataset(path.join(root, 'labelled'), 2, [2, 5]);
    servedLabels = await serveInProcess(path.join(root, 'labelled'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("holds the noise quantiles Python's statistics.NormalDist.inv_cdf gives, as float32, every one", async () => {
    const script = `import base64, statistics, numpy as np
n = statistics.NormalDist()
q = np.array([n.inv_cdf((t + 0.5) / 65536) for t in range(65536)], dtype=np.float64).astype("<f4")
print(base64.b64encode(q.tobytes()).decode())`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script], { maxBuffer: 1 << 24 });
    const expected = Buffer.from(stdout.trim(), 'base64');
    assert.equal(expected.length, 65_536 * 4);
    assert.ok(Buffer.from(NORMAL_QUANTILES.buffer).equals(expected));
  });

  for (const dtype of ['float32', 'uint8'] as const) {
    it(`equals numpy operations on the teem-unu files with the echoed parameters (${dtype})`, async () => {
      const policy = resolveSamplingPolicy({
        jitterProb: 0.4,
        negativeProb: 0.4,
        centerProb: 0.2,
        negativesPerEpoch: 30,
        padValue: 9,
        samplesPerNodule: 4,
        // As the wire carries them: float32 values.
        augmentation: Object.fromEntries(Object.entries(EVERYTHING).map(([k, v]) => [k, Math.fround(v)])),
      });
      const cropSize = [8, 12, 12] as const;
      const batches = await served.batches(
        served.request({ seed: 77n, epoch: 1, policy, cropSize, dtype, batchSize: 6 }),
      );
      const caseBatches = [];
      const seen = {
        flips: 0,
        rotations: 0,
        gamma: 0,
        scale: 0,
        shift: 0,
        noise: 0,
        noIntensity: 0,
        padded: 0,
      };
      for (const [i, bytes] of batches.entries()) {
        const batch = Batch.decode(bytes);
        const image = path.join(root, `${dtype}-${i}.image`);
        const mask = path.join(root, `${dtype}-${i}.mask`);
        await writeFile(image, batch.image);
        await writeFile(mask, batch.mask);
        for (const sample of batch.samples) {
          const info = sample.augmentation;
          assert.ok(info !== undefined, `sample ${sample.index} echoes no augmentation`);
          if (info.flippedAxes.length > 0) seen.flips++;
          if (info.rotate90 > 0) seen.rotations++;
          if (info.gamma !== undefined) seen.gamma++;
          if (info.scale !== undefined) seen.scale++;
          if (info.shift !== undefined) seen.shift++;
          if (info.noiseStd !== undefined) seen.noise++;
          if (
            info.gamma === undefined &&
            info.scale === undefined &&
            info.shift === undefined &&
            info.noiseStd === undefined
          )
            seen.noIntensity++;
          if (
            sample.origin.some((o, a) => o < 0 || o + cropSize[a]! > 22 || (a === 0 && o + cropSize[0] > 14))
          )
            seen.padded++;
          assert.notEqual(sample.mode, CropMode.CROP_MODE_BACKGROUND);
        }
        caseBatches.push({ image, mask, samples: batch.samples.map(sampleForPython) });
      }
      for (const [what, count] of Object.entries(seen)) {
        assert.ok(count > 0, `no sample had ${what}: the check would not cover it (${JSON.stringify(seen)})`);
      }
      const casePath = path.join(root, `${dtype}.json`);
      await writeFile(
        casePath,
        JSON.stringify({ series: files, cropSize, dtype, padValue: 9, batches: caseBatches }),
      );
      const { stdout } = await run('/usr/bin/python3', [REFERENCE, casePath], { maxBuffer: 1 << 24 });
      const crops = batches.length * 6;
      assert.equal(stdout.trim(), `ok ${crops}`);
    });
  }

  for (const keepLabels of [true, false]) {
    it(`centres label crops on their label and ${keepLabels ? 'keeps' : 'binarises'} mask labels, as numpy does`, async () => {
      const policy = resolveSamplingPolicy({
        negativesPerEpoch: 20,
        samplesPerNodule: 5,
        keepLabels,
        labelRatios: [1, 0, 2, 0, 0, 3],
        augmentation: { flipProb: 0.5, rotate90Prob: 0.5 },
      });
      const cropSize = [6, 8, 8] as const;
      const batches = await servedLabels.batches(
        servedLabels.request({ seed: 3n, policy, cropSize, dtype: 'uint8', batchSize: 5 }),
      );
      const caseBatches = [];
      const labels = new Map<number, number>();
      for (const [i, bytes] of batches.entries()) {
        const batch = Batch.decode(bytes);
        const image = path.join(root, `labels-${keepLabels}-${i}.image`);
        const mask = path.join(root, `labels-${keepLabels}-${i}.mask`);
        await writeFile(image, batch.image);
        await writeFile(mask, batch.mask);
        for (const sample of batch.samples) {
          assert.equal(sample.mode, CropMode.CROP_MODE_LABEL);
          labels.set(sample.label, (labels.get(sample.label) ?? 0) + 1);
        }
        assert.equal(
          batch.mask.some((v) => v > 1),
          keepLabels,
        );
        caseBatches.push({ image, mask, samples: batch.samples.map(sampleForPython) });
      }
      // Background, 2 and 5 weigh 1, 2 and 3; label 1 is absent.
      assert.deepEqual([...labels.keys()].sort(), [0, 2, 5]);
      const casePath = path.join(root, `labels-${keepLabels}.json`);
      await writeFile(
        casePath,
        JSON.stringify({
          series: labelled,
          cropSize,
          dtype: 'uint8',
          padValue: 0,
          keepLabels,
          batches: caseBatches,
        }),
      );
      const { stdout } = await run('/usr/bin/python3', [REFERENCE, casePath], { maxBuffer: 1 << 24 });
      assert.equal(stdout.trim(), `ok ${batches.length * 5}`);
    });
  }
});
