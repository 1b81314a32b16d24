import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { type BatchNormParams, batchNorm3d, DEFAULT_BATCH_NORM } from '../../../trainer/model/batch-norm.js';

const SHAPE: [number, number, number, number, number] = [2, 3, 4, 5, 2];
const COUNT = 2 * 3 * 4 * 5; // values per channel

function freshParams(): BatchNormParams {
  return {
    gamma: tf.tensor1d([1.5, 0.5]),
    beta: tf.tensor1d([0.25, -2]),
    movingMean: tf.variable(tf.zeros([2]), false) as tf.Variable<tf.Rank.R1>,
    movingVariance: tf.variable(tf.ones([2]), false) as tf.Variable<tf.Rank.R1>,
  };
}

/** Per-channel mean and unbiased variance over batch and space, in float64. */
function channelStats(values: Float32Array, channel: number): { mean: number; unbiased: number } {
  const xs = Array.from({ length: COUNT }, (_, i) => values[i * 2 + channel]!);
  const mean = xs.reduce((a, b) => a + b, 0) / COUNT;
  const unbiased = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (COUNT - 1);
  return { mean, unbiased };
}

describe('batchNorm3d', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  it('moves the running statistics towards the batch statistics in training', () => {
    tf.tidy(() => {
      const params = freshParams();
      const x = tf.add(tf.randomNormal(SHAPE, 0, 3, 'float32', 61), tf.tensor1d([10, -4])) as tf.Tensor5D;
      batchNorm3d(x, params, true);
      const values = x.dataSync() as Float32Array;
      const m = DEFAULT_BATCH_NORM.momentum;
      [0, 1].forEach((c) => {
        const { mean, unbiased } = channelStats(values, c);
        assert.ok(Math.abs(params.movingMean.dataSync()[c]! - m * mean) < 1e-4);
        assert.ok(Math.abs(params.movingVariance.dataSync()[c]! - ((1 - m) * 1 + m * unbiased)) < 1e-3);
      });
    });
  });

  it('normalises with the batch statistics in training: mean beta, standard deviation gamma', () => {
    tf.tidy(() => {
      const x = tf.add(tf.randomNormal(SHAPE, 0, 3, 'float32', 62), tf.tensor1d([10, -4])) as tf.Tensor5D;
      const y = batchNorm3d(x, freshParams(), true).dataSync() as Float32Array;
      [0, 1].forEach((c) => {
        const { mean, unbiased } = channelStats(y, c);
        assert.ok(Math.abs(mean - [0.25, -2][c]!) < 1e-4);
        const biased = (unbiased * (COUNT - 1)) / COUNT;
        assert.ok(Math.abs(biased - [1.5, 0.5][c]! ** 2) < 1e-3);
      });
    });
  });

  it('uses the running statistics, and leaves them alone, in inference', () => {
    tf.tidy(() => {
      const params = freshParams();
      params.movingMean.assign(tf.tensor1d([1, -1]));
      params.movingVariance.assign(tf.tensor1d([4, 0.25]));
      const x = tf.randomNormal(SHAPE, 0, 1, 'float32', 63) as tf.Tensor5D;
      const y = batchNorm3d(x, params, false).dataSync();
      const xs = x.dataSync();
      const eps = DEFAULT_BATCH_NORM.epsilon;
      xs.forEach((value, i) => {
        const c = i % 2;
        const expected =
          ((value - [1, -1][c]!) / Math.sqrt([4, 0.25][c]! + eps)) * [1.5, 0.5][c]! + [0.25, -2][c]!;
        assert.ok(Math.abs(y[i]! - expected) < 1e-4, `element ${i}`);
      });
      assert.deepEqual(Array.from(params.movingMean.dataSync()), [1, -1]);
      assert.deepEqual(Array.from(params.movingVariance.dataSync()), [4, 0.25]);
    });
  });

  it('keeps the running statistics alive outside the tidy that updated them', () => {
    const params = freshParams();
    tf.tidy(() => {
      batchNorm3d(tf.randomNormal(SHAPE, 5, 1, 'float32', 64) as tf.Tensor5D, params, true);
    });
    assert.ok(params.movingMean.dataSync()[0]! > 0.4);
    tf.dispose([params.gamma, params.beta, params.movingMean, params.movingVariance]);
  });
});
