import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { averageGradients } from '../../../trainer/loop/average-gradients.js';
import { DEFAULT_BUCKET_ELEMENTS } from '../../../trainer/loop/gradient-buckets.js';
import { diceBceLoss } from '../../../trainer/model/losses.js';
import { createVNet, type VNet } from '../../../trainer/model/vnet.js';
import { VNET_TINY } from '../../../trainer/model/vnet-config.js';
import { inProcessGroups } from '../../support/in-process-group.js';

const CROP = [8, 8, 8] as const;
const GLOBAL_BATCH = 4;
/** BCE alone: a mean over samples with nothing shared between them (soft Dice is one ratio over the batch). */
const BCE_ONLY = { diceWeight: 0, bceWeight: 1 };
/**
 * float32 gradients summed in another order (per rank, then over ranks) differ in the last bits; this bound is
 * relative to the largest gradient, far above those differences and far below a gradient left unaveraged.
 */
const RELATIVE_TOLERANCE = 1e-4;

/** Four seeded crops and masks (a cube of foreground at a different place in each). */
function globalBatch(): { x: tf.Tensor5D; y: tf.Tensor4D } {
  return tf.tidy(() => {
    const [s0, s1, s2] = CROP;
    const mask = new Float32Array(GLOBAL_BATCH * s0 * s1 * s2);
    for (let b = 0; b < GLOBAL_BATCH; b++)
      for (let z = 0; z < s0; z++)
        for (let yy = 0; yy < s1; yy++)
          for (let xx = 0; xx < s2; xx++) {
            const inside = Math.abs(z - 2 - b) < 2 && Math.abs(yy - 4) < 2 && Math.abs(xx - 3 - (b % 2)) < 2;
            mask[((b * s0 + z) * s1 + yy) * s2 + xx] = inside ? 1 : 0;
          }
    const y = tf.tensor4d(mask, [GLOBAL_BATCH, ...CROP]);
    const noise = tf.randomNormal([GLOBAL_BATCH, ...CROP, 1], 0, 0.3, 'float32', 7);
    return { x: tf.add(tf.reshape(y, [GLOBAL_BATCH, ...CROP, 1]), noise) as tf.Tensor5D, y };
  });
}

/** The gradient of the BCE loss of `model` on samples [from, to) of the batch, flattened in variable order. */
function gradientOn(model: VNet, x: tf.Tensor5D, y: tf.Tensor4D, from: number, to: number) {
  const xs = tf.slice(x, [from, 0, 0, 0, 0], [to - from, -1, -1, -1, -1]) as tf.Tensor5D;
  const ys = tf.slice(y, [from, 0, 0, 0], [to - from, -1, -1, -1]);
  const result = tf.variableGrads(
    () => diceBceLoss(model.apply(xs, true), ys, BCE_ONLY),
    [...model.trainableVariables],
  );
  tf.dispose([xs, ys]);
  return result;
}

async function flatten(model: VNet, grads: tf.NamedTensorMap): Promise<Float32Array> {
  const parts = await Promise.all(model.trainableVariables.map((v) => grads[v.name]!.data<'float32'>()));
  const flat = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    flat.set(part, offset);
    offset += part.length;
  }
  return flat;
}

describe('averageGradients', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  // The tiny V-Net's 20,477 gradients fit one default bucket; 500 elements cut them into many, some variables
  // larger than a bucket.
  for (const [worldSize, bucketElements] of [
    [1, DEFAULT_BUCKET_ELEMENTS],
    [2, DEFAULT_BUCKET_ELEMENTS],
    [4, DEFAULT_BUCKET_ELEMENTS],
    [2, 500],
    [4, 500],
  ] as const) {
    it(`over ${worldSize} rank(s), each on its share of the batch, gives the gradient of one rank on the global batch (buckets of ${bucketElements})`, async () => {
      const model = createVNet({ ...VNET_TINY, seed: 3 });
      const { x, y } = globalBatch();
      try {
        const global = gradientOn(model, x, y, 0, GLOBAL_BATCH);
        const expected = await flatten(model, global.grads);
        const globalLoss = (await global.value.data())[0]!;
        tf.dispose([global.value, global.grads]);

        const { groups } = inProcessGroups(worldSize);
        const share = GLOBAL_BATCH / worldSize;
        const results = await Promise.all(
          groups.map(async (group) => {
            const own = gradientOn(model, x, y, group.rank * share, (group.rank + 1) * share);
            const loss = (await own.value.data())[0]!;
            const averaged = await averageGradients(
              group,
              model.trainableVariables,
              own.grads,
              loss,
              0,
              bucketElements,
            );
            const flat = await flatten(model, averaged.grads);
            tf.dispose([own.value, own.grads, averaged.grads]);
            return { flat, meanLoss: averaged.meanLoss };
          }),
        );
        const largest = expected.reduce((max, value) => Math.max(max, Math.abs(value)), 0);
        assert.ok(largest > 0, 'the global gradient is not all zeros');
        for (const { flat, meanLoss } of results) {
          assert.equal(flat.length, expected.length);
          let worst = 0;
          for (let i = 0; i < flat.length; i++) worst = Math.max(worst, Math.abs(flat[i]! - expected[i]!));
          assert.ok(
            worst <= RELATIVE_TOLERANCE * largest,
            `largest difference ${worst} against a largest gradient of ${largest}`,
          );
          assert.ok(
            Math.abs(meanLoss - globalLoss) <= 1e-5 * Math.abs(globalLoss),
            `${meanLoss} vs ${globalLoss}`,
          );
        }
        // Every rank holds the same bits.
        for (const { flat } of results.slice(1)) assert.deepEqual(flat, results[0]!.flat);
      } finally {
        tf.dispose([x, y]);
        model.dispose();
      }
    });
  }
});
