import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { conv3dSame } from '../../../trainer/model/conv3d-same.js';
import { registerTfjsGradients } from '../../../trainer/model/register-gradients.js';
import {
  assertGradientMatchesFiniteDifferences,
  maxAbsDifference,
  spreadEntries,
} from '../support/finite-differences.js';

const X_SHAPE: [number, number, number, number, number] = [2, 3, 4, 5, 2];

/** Gradients of sum(conv3dSame(x, w) * r) on the named backend, as plain arrays. */
async function gradientsOn(backend: string, kernelSize: number): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 31);
    const w = tf.randomNormal([kernelSize, kernelSize, kernelSize, 2, 3], 0, 1, 'float32', 32);
    const r = tf.randomNormal([...X_SHAPE.slice(0, 4), 3], 0, 1, 'float32', 33);
    const loss = (a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv3dSame(a as tf.Tensor5D, b as tf.Tensor5D), r)) as tf.Scalar;
    return tf
      .grads(loss)([x, w])
      .map((g) => g.dataSync() as Float32Array);
  });
}

describe('conv3dSame', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
    registerTfjsGradients();
  });

  it("equals tf.conv3d with stride 1 and 'same' padding, and has tfjs's own gradient on the CPU backend", () => {
    tf.tidy(() => {
      const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 34) as tf.Tensor5D;
      const w = tf.randomNormal([3, 3, 3, 2, 3], 0, 1, 'float32', 35) as tf.Tensor5D;
      const r = tf.randomNormal([...X_SHAPE.slice(0, 4), 3], 0, 1, 'float32', 36);
      assert.ok(maxAbsDifference(conv3dSame(x, w), tf.conv3d(x, w, 1, 'same')) < 1e-5);
      const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(conv3dSame(a as tf.Tensor5D, b as tf.Tensor5D), r)),
      )([x, w]);
      const theirs = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, 1, 'same'), r)),
      )([x, w]);
      assert.ok(maxAbsDifference(ours[0]!, theirs[0]!) < 1e-4);
      assert.ok(maxAbsDifference(ours[1]!, theirs[1]!) < 1e-4);
    });
  });

  it('has the gradient of central finite differences for 3x3x3 and 5x5x5 kernels', () => {
    for (const k of [3, 5]) {
      tf.tidy(() => {
        const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 37) as tf.Tensor5D;
        const w = tf.randomNormal([k, k, k, 2, 3], 0, 1, 'float32', 38) as tf.Tensor5D;
        const r = tf.randomNormal([...X_SHAPE.slice(0, 4), 3], 0, 1, 'float32', 39);
        const loss = (a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(conv3dSame(a as tf.Tensor5D, b as tf.Tensor5D), r)) as tf.Scalar;
        assertGradientMatchesFiniteDifferences(loss, [x, w], 0, spreadEntries(x.size, 7));
        assertGradientMatchesFiniteDifferences(loss, [x, w], 1, spreadEntries(w.size, 7));
      });
    }
  });

  it("gives the WASM backend the CPU backend's gradients (tfjs-backend-wasm's own conv3d input gradient is wrong)", async () => {
    for (const k of [3, 5]) {
      const cpu = await gradientsOn('cpu', k);
      const wasm = await gradientsOn('wasm', k);
      cpu.forEach((values, input) => {
        const scale = Math.max(...values.map(Math.abs));
        values.forEach((value, i) => {
          assert.ok(
            Math.abs(wasm[input]![i]! - value) <= 1e-4 * scale,
            `kernel ${k}, input ${input}, entry ${i}`,
          );
        });
      });
    }
    await tf.setBackend('cpu');
  });

  it('refuses an even kernel, whose same padding would be lopsided', () => {
    tf.tidy(() => {
      const x = tf.zeros(X_SHAPE) as tf.Tensor5D;
      assert.throws(() => conv3dSame(x, tf.zeros([2, 2, 2, 2, 3]) as tf.Tensor5D), /needs an odd kernel/);
    });
  });
});
