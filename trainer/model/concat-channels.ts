import * as tf from '@tensorflow/tfjs-core';

/**
 * `tf.concat([a, b], 4)` for [B, s0, s1, s2, C] tensors, with a faster gradient.
 *
 * tfjs's gradient of concat slices the channel axis of a rank-5 tensor, which is a non-contiguous slice that
 * the CPU backend (and the WASM backend above rank 4) copies element by element in JavaScript: about 15 ms per
 * skip connection of the tiny V-Net at 8x16x16, a fifth of a WASM training step. Here the gradient views dy
 * as [voxels, C], transposes it to [C, voxels], takes two contiguous row blocks and transposes them back: the
 * same numbers, 5 to 30 times faster.
 */
export function concatChannels(a: tf.Tensor5D, b: tf.Tensor5D): tf.Tensor5D {
  return withGradient(a, b);
}

const withGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b] = args as [tf.Tensor5D, tf.Tensor5D];
  const aChannels = a.shape[4];
  const bChannels = b.shape[4];
  return {
    value: tf.concat([a, b], 4),
    gradFunc: (dy: tf.Tensor5D) => {
      const voxels = dy.size / dy.shape[4];
      const rows = tf.transpose(tf.reshape(dy, [voxels, aChannels + bChannels]));
      const [da, db] = tf.split(rows, [aChannels, bChannels], 0) as [tf.Tensor2D, tf.Tensor2D];
      return [tf.reshape(tf.transpose(da), a.shape), tf.reshape(tf.transpose(db), b.shape)];
    },
  };
}) as (a: tf.Tensor5D, b: tf.Tensor5D) => tf.Tensor5D;
