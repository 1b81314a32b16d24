import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { instanceNorm } from '../../../trainer/model/instance-norm.js';

const SHAPE: [number, number, number, number, number] = [3, 4, 5, 6, 2];

/** Mean and biased variance of each (sample, channel) of a channels-last array, in float64. */
function statsPerSampleChannel(
  values: Float32Array,
  shape: readonly number[],
): { mean: number; variance: number }[] {
  const [batch, s0, s1, s2, channels] = shape as [number, number, number, number, number];
  const voxels = s0 * s1 * s2;
  const stats: { mean: number; variance: number }[] = [];
  for (let n = 0; n < batch; n++) {
    for (let c = 0; c < channels; c++) {
      let sum = 0;
      for (let v = 0; v < voxels; v++) sum += values[(n * voxels + v) * channels + c]!;
      const mean = sum / voxels;
      let squares = 0;
      for (let v = 0; v < voxels; v++) squares += (values[(n * voxels + v) * channels + c]! - mean) ** 2;
      stats.push({ mean, variance: squares / voxels });
    }
  }
  return stats;
}

describe('instanceNorm', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  it('gives every sample and channel mean 0 and variance 1 over the spatial axes', () => {
    tf.tidy(() => {
      // Each (sample, channel) gets its own offset and scale, so normalising over the wrong axes shows.
      const offsets = tf.tensor5d([5, -3, 0.5, 40, -12, 2], [3, 1, 1, 1, 2]);
      const scales = tf.tensor5d([2, 0.3, 7, 1, 0.5, 11], [3, 1, 1, 1, 2]);
      const x = tf.add(tf.mul(tf.randomNormal(SHAPE, 0, 1, 'float32', 51), scales), offsets) as tf.Tensor5D;
      const y = instanceNorm(x, tf.ones([2]), tf.zeros([2]));
      for (const { mean, variance } of statsPerSampleChannel(y.dataSync() as Float32Array, SHAPE)) {
        assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
        // eps = 1e-5 against input variances of 0.09 and more shrinks the variance by at most 1.2e-4.
        assert.ok(Math.abs(variance - 1) < 2e-4, `variance ${variance}`);
      }
    });
  });

  it('then scales by gamma and shifts by beta per channel', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(SHAPE, 3, 2, 'float32', 52) as tf.Tensor5D;
      const y = instanceNorm(x, tf.tensor1d([2, 0.5]), tf.tensor1d([-1, 4]));
      statsPerSampleChannel(y.dataSync() as Float32Array, SHAPE).forEach(({ mean, variance }, i) => {
        const channel = i % 2;
        assert.ok(Math.abs(mean - [-1, 4][channel]!) < 1e-4);
        assert.ok(Math.abs(variance - [4, 0.25][channel]!) < 1e-3);
      });
    });
  });

  it("normalises each sample on its own: a sample's output does not depend on the rest of the batch", () => {
    tf.tidy(() => {
      const x = tf.randomNormal(SHAPE, 0, 1, 'float32', 53) as tf.Tensor5D;
      const gamma = tf.ones([2]) as tf.Tensor1D;
      const beta = tf.zeros([2]) as tf.Tensor1D;
      const alone = instanceNorm(tf.slice(x, [1, 0, 0, 0, 0], [1, -1, -1, -1, -1]), gamma, beta);
      const inBatch = tf.slice(instanceNorm(x, gamma, beta), [1, 0, 0, 0, 0], [1, -1, -1, -1, -1]);
      assert.ok(tf.max(tf.abs(tf.sub(alone, inBatch))).dataSync()[0]! < 1e-6);
    });
  });
});
