import * as tf from '@tensorflow/tfjs-core';
import { NORM_EPSILON } from './instance-norm.js';
import { voxelMoments } from './voxel-moments.js';

/** The trainable scale and shift and the running statistics of one batch-norm layer, each [C]. */
export interface BatchNormParams {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  /** Non-trainable: updated by every training-mode call, read in inference. */
  readonly movingMean: tf.Variable<tf.Rank.R1>;
  readonly movingVariance: tf.Variable<tf.Rank.R1>;
}

export interface BatchNormOptions {
  /** Weight of the new batch in the running statistics (PyTorch's convention; Keras's momentum is 1 - this). */
  readonly momentum: number;
  readonly epsilon: number;
}

export const DEFAULT_BATCH_NORM: BatchNormOptions = { momentum: 0.1, epsilon: NORM_EPSILON };

/**
 * Batch normalisation of a [B, s0, s1, s2, C] tensor over the batch and the three spatial axes, written by hand
 * because `tf.batchNorm` accepts at most 4-D tensors.
 *
 * Training: normalises with this batch's statistics and moves the running ones towards them
 * (`running = (1 - momentum) * running + momentum * batch`; the variance enters unbiased, n / (n - 1), as in
 * PyTorch). Inference: normalises with the running statistics only, so a sample's output does not depend on
 * the rest of its batch.
 */
export function batchNorm3d(
  x: tf.Tensor5D,
  params: BatchNormParams,
  training: boolean,
  options: BatchNormOptions = DEFAULT_BATCH_NORM,
): tf.Tensor5D {
  return tf.tidy(() => {
    if (!training) {
      const scale = tf.mul(tf.rsqrt(tf.add(params.movingVariance, options.epsilon)), params.gamma);
      return tf.add(tf.mul(tf.sub(x, params.movingMean), scale), params.beta);
    }
    const channels = x.shape[4];
    const count = x.size / channels;
    const { mean, variance, centered } = voxelMoments(tf.reshape(x, [1, count, channels]));
    const keep = 1 - options.momentum;
    const unbiased = tf.mul(variance, count > 1 ? count / (count - 1) : 1);
    // assign() takes its own reference to the new data, so the surrounding tidy does not free it.
    params.movingMean.assign(
      tf.add(tf.mul(params.movingMean, keep), tf.mul(tf.reshape(mean, [channels]), options.momentum)),
    );
    params.movingVariance.assign(
      tf.add(tf.mul(params.movingVariance, keep), tf.mul(tf.reshape(unbiased, [channels]), options.momentum)),
    );
    const scale = tf.mul(tf.rsqrt(tf.add(variance, options.epsilon)), params.gamma);
    return tf.reshape(tf.add(tf.mul(centered, scale), params.beta), x.shape);
  });
}
