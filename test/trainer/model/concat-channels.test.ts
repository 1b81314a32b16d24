import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { concatChannels } from '../../../trainer/model/concat-channels.js';
import { registerTfjsGradients } from '../../../trainer/model/register-gradients.js';
import { maxAbsDifference } from '../support/finite-differences.js';

describe('concatChannels', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
    registerTfjsGradients();
  });

  it("equals tf.concat on the channel axis and has tf.concat's gradient", () => {
    tf.tidy(() => {
      const a = tf.randomNormal([2, 2, 3, 4, 3], 0, 1, 'float32', 41) as tf.Tensor5D;
      const b = tf.randomNormal([2, 2, 3, 4, 5], 0, 1, 'float32', 42) as tf.Tensor5D;
      const r = tf.randomNormal([2, 2, 3, 4, 8], 0, 1, 'float32', 43);
      assert.equal(maxAbsDifference(concatChannels(a, b), tf.concat([a, b], 4)), 0);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(concatChannels(x as tf.Tensor5D, y as tf.Tensor5D), r)),
      )([a, b]);
      const theirs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, y], 4), r)))([
        a,
        b,
      ]);
      assert.deepEqual(ours[0]!.shape, a.shape);
      assert.deepEqual(ours[1]!.shape, b.shape);
      assert.equal(maxAbsDifference(ours[0]!, theirs[0]!), 0);
      assert.equal(maxAbsDifference(ours[1]!, theirs[1]!), 0);
    });
  });
});
