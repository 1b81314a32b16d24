import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batch, CropMode } from '@voxelfeed/proto';
import type { Logger } from '../../../server/log/logger.js';
import { createEpochPlan } from '../../../server/sampling/epoch-plan.js';
import { extractCrop } from '../../../server/sampling/extract-crop.js';
import { planSample, type SampleContext } from '../../../server/sampling/plan-sample.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import type { CropParams, Shape3, Volume } from '../../../server/sampling/types.js';
import { serveInProcess } from '../../support/in-process-dataset.js';
import { createPhantomDataset } from '../../support/phantom-dataset.js';
import { sphereVolume, syntheticCatalog } from './synthetic-catalog.js';

/** Mask voxels of the cut crop, counted on the crop itself (not by the code under test). */
function foregroundVoxels(volume: Volume, sample: CropParams): number {
  const size = sample.size;
  const total = size[0] * size[1] * size[2];
  const mask = new Uint8Array(total);
  extractCrop(
    { shape: volume.shape, image: volume.image, mask: volume.mask },
    { origin: sample.origin, size, padValue: 0 },
    { image: new Uint8Array(total), mask, offset: 0 },
  );
  return mask.reduce((sum, v) => sum + (v !== 0 ? 1 : 0), 0);
}

describe('negatives that avoid foreground', () => {
  const cropSize: Shape3 = [6, 10, 10];

  function sweep(avoid: boolean) {
    const stats = { negatives: 0, touching: 0, background: 0, missed: 0, nodule: 0 };
    for (let key = 0; key < 12; key++) {
      const series = syntheticCatalog(key, 6);
      const volumes = series.map(sphereVolume);
      const policy = resolveSamplingPolicy({
        negativesPerEpoch: 40,
        ...(avoid ? { avoidForeground: true, backgroundMaxDraws: 16 } : {}),
      });
      const seed = BigInt(key) * 7919n;
      const plan = createEpochPlan({ series, policy, seed, epoch: key });
      const context: SampleContext = { plan, series, policy, seed, epoch: key, cropSize };
      const plainContext: SampleContext = {
        ...context,
        policy: resolveSamplingPolicy({ negativesPerEpoch: 40 }),
      };
      for (let position = 0; position < plan.size; position++) {
        const sample = planSample(context, position, (s) => volumes[s]);
        const plain = planSample(plainContext, position);
        const voxels = foregroundVoxels(volumes[sample.series]!, sample);
        if (sample.mode === 'jitter' || sample.mode === 'center') {
          stats.nodule++;
          assert.deepEqual(sample, plain, 'nodule-centred samples do not change');
          continue;
        }
        stats.negatives++;
        if (voxels > 0) stats.touching++;
        if (!avoid) continue;
        assert.ok(sample.background !== undefined);
        assert.ok(sample.background.draws >= 1 && sample.background.draws <= 16);
        if (sample.mode === 'background') {
          stats.background++;
          assert.equal(
            voxels,
            0,
            `background sample ${position} of catalog ${key} holds ${voxels} mask voxels`,
          );
          assert.equal(sample.background.missed, false);
          // The first draw is the plain negative's origin: a plain negative free of foreground stays put.
          if (foregroundVoxels(volumes[plain.series]!, plain) === 0) {
            assert.deepEqual(sample.origin, plain.origin);
            assert.equal(sample.background.draws, 1);
          }
        } else {
          stats.missed++;
          assert.equal(sample.mode, 'negative');
          assert.equal(sample.background.missed, true);
          assert.equal(sample.background.draws, 16);
          assert.ok(voxels > 0);
        }
      }
    }
    return stats;
  }

  it('never hold a foreground voxel, over many seeds and catalogs; plain negatives do', () => {
    const plain = sweep(false);
    // The control: without the option a real share of negatives touch nodules, so the check can fail.
    assert.ok(plain.touching > plain.negatives * 0.05, `only ${plain.touching} of ${plain.negatives} touch`);
    const avoiding = sweep(true);
    assert.equal(avoiding.negatives, plain.negatives);
    assert.ok(avoiding.background > avoiding.negatives * 0.9, JSON.stringify(avoiding));
  });

  it('serve all-zero masks for background crops, and say in SampleInfo when a crop could not avoid foreground', async () => {
    const dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 3n });
    try {
      const served = await serveInProcess(dataset.dir);
      const warnings: string[] = [];
      const log: Logger = {
        debug() {},
        info() {},
        warn(_fields: object, message: string) {
          warnings.push(message);
        },
        error() {},
        child() {
          return log;
        },
      };
      for (const [crop, draws] of [
        [[8, 16, 16], 32],
        [[24, 48, 48], 2],
      ] as const) {
        const policy = resolveSamplingPolicy({
          negativesPerEpoch: 24,
          avoidForeground: true,
          backgroundMaxDraws: draws,
        });
        const request = served.request({ seed: 5n, policy, cropSize: crop, batchSize: 4 });
        const voxels = crop[0] * crop[1] * crop[2];
        let background = 0;
        let missed = 0;
        for (const bytes of await served.batches(request, log)) {
          const batch = Batch.decode(bytes);
          batch.samples.forEach((sample, slot) => {
            const mask = batch.mask.subarray(slot * voxels, (slot + 1) * voxels);
            if (sample.mode === CropMode.CROP_MODE_BACKGROUND) {
              background++;
              assert.ok(mask.every((v) => v === 0));
              assert.equal(sample.backgroundMissed, false);
            } else if (sample.mode === CropMode.CROP_MODE_NEGATIVE) {
              missed++;
              assert.equal(sample.backgroundMissed, true);
              assert.equal(sample.backgroundDraws, draws);
              assert.ok(mask.some((v) => v !== 0));
            }
          });
        }
        if (draws === 32)
          assert.ok(background > 0 && missed === 0, `${background} background, ${missed} missed`);
        // A crop of the whole volume holds every nodule: series with nodules cannot give a background crop.
        else assert.ok(missed > 0, 'whole-volume negatives of series with nodules must miss');
      }
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0]!, /still hold foreground after 2 draws .*raise sampling.background_max_draws/);
    } finally {
      await dataset.cleanup();
    }
  });
});
