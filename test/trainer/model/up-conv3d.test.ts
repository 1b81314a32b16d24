import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { registerTfjsGradients } from '../../../trainer/model/register-gradients.js';
import { depthToSpace3d, upConv3d, upKernelFromTransposeKernel } from '../../../trainer/model/up-conv3d.js';
import {
  assertGradientMatchesFiniteDifferences,
  maxAbsDifference,
  spreadEntries,
} from '../support/finite-differences.js';

// A non-cubic input with distinct sides, so that any mix-up of axes changes the result.
const X_SHAPE: [number, number, number, number, number] = [2, 2, 3, 4, 3];
const C_OUT = 2;

/** output(2i+a, 2j+b, 2k+c, o) = sum over ci of x(i, j, k, ci) * filter[a, b, c, o, ci], in plain loops. */
function referenceUpConv(x: tf.Tensor5D, filter: tf.Tensor5D): Float32Array {
  const [batch, d, h, w, cin] = x.shape;
  const cout = filter.shape[3];
  const xs = x.dataSync();
  const fs = filter.dataSync();
  const out = new Float32Array(batch * 8 * d * h * w * cout);
  for (let n = 0; n < batch; n++)
    for (let i = 0; i < d; i++)
      for (let j = 0; j < h; j++)
        for (let k = 0; k < w; k++)
          for (let a = 0; a < 2; a++)
            for (let b = 0; b < 2; b++)
              for (let c = 0; c < 2; c++)
                for (let o = 0; o < cout; o++) {
                  let sum = 0;
                  for (let ci = 0; ci < cin; ci++) {
                    sum +=
                      xs[(((n * d + i) * h + j) * w + k) * cin + ci]! *
                      fs[(((a * 2 + b) * 2 + c) * cout + o) * cin + ci]!;
                  }
                  const [z, y, v] = [2 * i + a, 2 * j + b, 2 * k + c];
                  out[(((n * 2 * d + z) * 2 * h + y) * 2 * w + v) * cout + o] = sum;
                }
  return out;
}

describe('upConv3d', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
    registerTfjsGradients();
  });

  it('equals tf.conv3dTranspose (2x2x2, stride 2) with the equivalent kernel', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 11) as tf.Tensor5D;
      const filter = tf.randomNormal([2, 2, 2, C_OUT, X_SHAPE[4]], 0, 1, 'float32', 12) as tf.Tensor5D;
      const [batch, d, h, w] = X_SHAPE;
      const expected = tf.conv3dTranspose(x, filter, [batch, 2 * d, 2 * h, 2 * w, C_OUT], 2, 'valid');
      const actual = upConv3d(x, upKernelFromTransposeKernel(filter));
      assert.deepEqual(actual.shape, [batch, 2 * d, 2 * h, 2 * w, C_OUT]);
      assert.ok(maxAbsDifference(actual, expected) < 1e-5);
    });
  });

  it('equals the definition written as loops', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 13) as tf.Tensor5D;
      const filter = tf.randomNormal([2, 2, 2, C_OUT, X_SHAPE[4]], 0, 1, 'float32', 14) as tf.Tensor5D;
      const actual = upConv3d(x, upKernelFromTransposeKernel(filter)).dataSync();
      const expected = referenceUpConv(x, filter);
      assert.equal(actual.length, expected.length);
      for (const [i, value] of expected.entries()) {
        assert.ok(Math.abs(actual[i]! - value) < 1e-5, `element ${i}`);
      }
    });
  });

  it('has the gradient of central finite differences with respect to its kernel and its input', () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 15) as tf.Tensor5D;
      const kernel = tf.randomNormal([X_SHAPE[4], 8 * C_OUT], 0, 1, 'float32', 16) as tf.Tensor2D;
      const [batch, d, h, w] = X_SHAPE;
      const weights = tf.randomNormal([batch, 2 * d, 2 * h, 2 * w, C_OUT], 0, 1, 'float32', 17);
      const loss = (input: tf.Tensor, k: tf.Tensor) =>
        tf.sum(tf.mul(upConv3d(input as tf.Tensor5D, k as tf.Tensor2D), weights)) as tf.Scalar;
      assertGradientMatchesFiniteDifferences(loss, [x, kernel], 1, spreadEntries(kernel.size, 9));
      assertGradientMatchesFiniteDifferences(loss, [x, kernel], 0, spreadEntries(x.size, 9));
    });
  });

  it('refuses a kernel whose rows do not match the input channels', () => {
    tf.tidy(() => {
      const x = tf.zeros(X_SHAPE) as tf.Tensor5D;
      assert.throws(() => upConv3d(x, tf.zeros([4, 16]) as tf.Tensor2D), /expected \[3, 8 \* C_out\]/);
    });
  });
});

describe('depthToSpace3d', () => {
  it('moves channel block (a, b, c) to offset (a, b, c) of each 2x2x2 output block', () => {
    tf.tidy(() => {
      // One voxel, one output channel: channel a*4 + b*2 + c holds that number, and must land at (a, b, c).
      const y = tf.tensor5d([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 8]);
      const out = depthToSpace3d(y, 1);
      assert.deepEqual(out.shape, [1, 2, 2, 2, 1]);
      assert.deepEqual(Array.from(out.dataSync()), [0, 1, 2, 3, 4, 5, 6, 7]);
    });
  });
});
