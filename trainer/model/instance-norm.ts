import * as tf from '@tensorflow/tfjs-core';
import { voxelMoments } from './voxel-moments.js';

/** Keeps the division finite for a constant channel; the value PyTorch and Keras use. */
export const NORM_EPSILON = 1e-5;

/**
 * Instance normalisation of a [B, s0, s1, s2, C] tensor: each sample's each channel is shifted and scaled to
 * mean 0 and variance 1 over its three spatial axes, then mapped by `gamma * x + beta` (both [C]).
 *
 * Written by hand because `tf.batchNorm` accepts at most 4-D tensors. Training and inference compute the same
 * thing, so it works with any batch size, batch 1 included.
 */
export function instanceNorm(
  x: tf.Tensor5D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = NORM_EPSILON,
): tf.Tensor5D {
  return tf.tidy(() => {
    const [batch, s0, s1, s2, channels] = x.shape;
    const { variance, centered } = voxelMoments(tf.reshape(x, [batch, s0 * s1 * s2, channels]));
    const scale = tf.mul(tf.rsqrt(tf.add(variance, epsilon)), gamma);
    return tf.reshape(tf.add(tf.mul(centered, scale), beta), x.shape);
  });
}
