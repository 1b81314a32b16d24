import * as tf from '@tensorflow/tfjs-core';

export interface VoxelMoments {
  /** [G, 1, C] */
  readonly mean: tf.Tensor3D;
  /** The biased (1 / V) variance, [G, 1, C]. */
  readonly variance: tf.Tensor3D;
  /** x - mean, [G, V, C]: normalisation needs it anyway. */
  readonly centered: tf.Tensor3D;
}

/**
 * Per-group, per-channel mean and variance of x [G, V, C] over its V voxels, as batched matrix products with a
 * row of 1 / V. `tf.moments` over the spatial axes of a 5-D tensor transposes and reduces element by element
 * on the CPU backend; a normalisation layer's forward and backward pass run 2 (CPU) to 3 (WASM) times faster
 * this way, with the same values to float32 rounding.
 */
export function voxelMoments(x: tf.Tensor3D): VoxelMoments {
  const [groups, voxels] = x.shape;
  const average = tf.fill([groups, 1, voxels], 1 / voxels) as tf.Tensor3D;
  const mean = tf.matMul(average, x) as tf.Tensor3D;
  const centered = tf.sub<tf.Tensor3D>(x, mean);
  const variance = tf.matMul(average, tf.square(centered)) as tf.Tensor3D;
  return { mean, variance, centered };
}
