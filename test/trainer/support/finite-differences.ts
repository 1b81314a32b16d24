import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Compares the analytic gradient of a scalar function with central finite differences at a few entries of one
 * input: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
 *
 * The functions checked here are L = sum(op(x, w) * R) for a fixed random R and an op linear in each of its
 * inputs (convolutions, reshuffles), so L is linear in every entry and central differences carry no truncation
 * error, whatever eps. What remains is float32 rounding of L: about 6e-8 times the sum of |terms| (at most a
 * few hundred for the tensors of these tests), so ~1e-5, amplified by 1 / (2 eps) = 2.5 for eps = 0.2. The
 * tolerance of 1e-3 * max(1, |gradient|) keeps a margin of 30 or more above that, while a wrong gradient (a
 * permuted layout, a missing term) is off by O(1).
 */
export function assertGradientMatchesFiniteDifferences(
  f: (...inputs: tf.Tensor[]) => tf.Scalar,
  inputs: readonly tf.Tensor[],
  which: number,
  entries: readonly number[],
  epsilon = 0.2,
  relativeTolerance = 1e-3,
): void {
  const analytic = tf.tidy(() =>
    tf
      .grads(f)([...inputs])
      [which]!.dataSync(),
  );
  const target = inputs[which]!;
  const base = target.dataSync();
  const evaluate = (index: number, delta: number): number => {
    const values = Float32Array.from(base);
    values[index] = values[index]! + delta;
    return tf.tidy(() => {
      const shifted = tf.tensor(values, target.shape, 'float32');
      const args = inputs.map((input, i) => (i === which ? shifted : input));
      return f(...args).dataSync()[0]!;
    });
  };
  for (const index of entries) {
    const numeric = (evaluate(index, epsilon) - evaluate(index, -epsilon)) / (2 * epsilon);
    const exact = analytic[index]!;
    assert.ok(
      Math.abs(numeric - exact) <= relativeTolerance * Math.max(1, Math.abs(exact)),
      `entry ${index} of input ${which}: analytic ${exact}, central difference ${numeric}`,
    );
  }
}

/** `count` distinct entries spread over a tensor of `size` values, first and last included. */
export function spreadEntries(size: number, count: number): number[] {
  const step = (size - 1) / (count - 1);
  return [...new Set(Array.from({ length: count }, (_, i) => Math.round(i * step)))];
}

/** Largest absolute difference between two tensors of the same shape. */
export function maxAbsDifference(a: tf.Tensor, b: tf.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
