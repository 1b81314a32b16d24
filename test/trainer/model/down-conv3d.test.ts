import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { downConv3d, spaceToDepth3d } from '../../../trainer/model/down-conv3d.js';
import { registerTfjsGradients } from '../../../trainer/model/register-gradients.js';
import { depthToSpace3d } from '../../../trainer/model/up-conv3d.js';
import {
  assertGradientMatchesFiniteDifferences,
  maxAbsDifference,
  spreadEntries,
} from '../support/finite-differences.js';

const X_SHAPE: [number, number, number, number, number] = [2, 4, 2, 6, 3];

describe('downConv3d', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
    registerTfjsGradients();
  });

  it('equals tf.conv3d with a 2x2x2 kernel, stride 2, valid padding', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 21) as tf.Tensor5D;
      const kernel = tf.randomNormal([2, 2, 2, 3, 5], 0, 1, 'float32', 22) as tf.Tensor5D;
      const expected = tf.conv3d(x, kernel, 2, 'valid');
      const actual = downConv3d(x, kernel);
      assert.deepEqual(actual.shape, [2, 2, 1, 3, 5]);
      assert.ok(maxAbsDifference(actual, expected) < 1e-5);
    });
  });

  it('has the gradient of central finite differences with respect to its kernel and its input', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 23) as tf.Tensor5D;
      const kernel = tf.randomNormal([2, 2, 2, 3, 5], 0, 1, 'float32', 24) as tf.Tensor5D;
      const weights = tf.randomNormal([2, 2, 1, 3, 5], 0, 1, 'float32', 25);
      const loss = (input: tf.Tensor, k: tf.Tensor) =>
        tf.sum(tf.mul(downConv3d(input as tf.Tensor5D, k as tf.Tensor5D), weights)) as tf.Scalar;
      assertGradientMatchesFiniteDifferences(loss, [x, kernel], 1, spreadEntries(kernel.size, 9));
      assertGradientMatchesFiniteDifferences(loss, [x, kernel], 0, spreadEntries(x.size, 9));
    });
  });

  it('refuses a kernel that is not 2x2x2 over the input channels', () => {
    tf.tidy(() => {
      const x = tf.zeros(X_SHAPE) as tf.Tensor5D;
      assert.throws(
        () => downConv3d(x, tf.zeros([3, 3, 3, 3, 4]) as tf.Tensor5D),
        /expected \[2, 2, 2, 3, C_out\]/,
      );
    });
  });
});

describe('spaceToDepth3d', () => {
  it('is undone by depthToSpace3d', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 26) as tf.Tensor5D;
      const blocks = spaceToDepth3d(x);
      assert.deepEqual(blocks.shape, [2, 2, 1, 3, 24]);
      assert.deepEqual(Array.from(depthToSpace3d(blocks, 3).dataSync()), Array.from(x.dataSync()));
    });
  });

  it('refuses odd sides', () => {
    tf.tidy(() => {
      assert.throws(() => spaceToDepth3d(tf.zeros([1, 3, 2, 2, 1]) as tf.Tensor5D), /needs even sides/);
    });
  });
});
