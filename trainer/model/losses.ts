import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import { foregroundLogit } from './foreground.js';

/**
 * Segmentation losses and metrics for the V-Net. Masks are [B, s0, s1, s2] (or with a trailing 1), values 0 or
 * 1 in any numeric dtype; logits are the V-Net's [B, s0, s1, s2, 1 | 2] output (see `foregroundLogit`).
 */

/** Smoothing of the soft Dice: negligible against a batch's voxel counts, and keeps 0/0 finite. */
export const DICE_SMOOTHING = 1;

export interface DiceBceWeights {
  readonly diceWeight: number;
  readonly bceWeight: number;
}

export const DEFAULT_DICE_BCE_WEIGHTS: DiceBceWeights = { diceWeight: 1, bceWeight: 1 };

/**
 * Soft Dice loss over the whole batch (Milletari et al. 2016, eq. 1, with the squares in the denominator
 * dropped as most implementations do): 1 - (2 sum(p y) + eps) / (sum(p) + sum(y) + eps). One ratio over all
 * voxels of all samples, so a batch with a nodule-free crop still has a well-defined, unbiased loss.
 */
export function softDiceLoss(probabilities: tf.Tensor, mask: tf.Tensor, epsilon = DICE_SMOOTHING): tf.Scalar {
  return tf.tidy(() => {
    const y = asFloatLike(mask, probabilities);
    const intersection = tf.sum(tf.mul(probabilities, y));
    const total = tf.add(tf.sum(probabilities), tf.sum(y));
    return tf.sub(1, tf.div(tf.add(tf.mul(intersection, 2), epsilon), tf.add(total, epsilon)));
  });
}

/**
 * Mean binary cross-entropy from logits x and labels y, in the stable form max(x, 0) - x y + log(1 + exp(-|x|)):
 * the exponential never overflows and the log1p keeps precision near 0, so logits of +-100 give a finite loss
 * and gradient where log(sigmoid(x)) would give -Infinity.
 */
export function bceWithLogits(logits: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const y = asFloatLike(mask, logits);
    const perVoxel = tf.add(
      tf.sub(tf.relu(logits), tf.mul(logits, y)),
      tf.log1p(tf.exp(tf.neg(tf.abs(logits)))),
    );
    return tf.mean(perVoxel);
  });
}

/** diceWeight * soft Dice + bceWeight * BCE, from either head's logits and a [B, s0, s1, s2] mask. */
export function diceBceLoss(
  logits: tf.Tensor5D,
  mask: tf.Tensor,
  weights: DiceBceWeights = DEFAULT_DICE_BCE_WEIGHTS,
): tf.Scalar {
  return tf.tidy(() => {
    const logit = foregroundLogit(logits);
    const dice = softDiceLoss(tf.sigmoid(logit), mask);
    const bce = bceWithLogits(logit, mask);
    return tf.add(tf.mul(dice, weights.diceWeight), tf.mul(bce, weights.bceWeight));
  });
}

/**
 * Dice of the thresholded prediction (p >= threshold) against the mask over the whole batch: 2 |P n Y| /
 * (|P| + |Y|), and 1 when both are empty (nothing to find, nothing found: a perfect answer).
 */
export function batchDice(probabilities: tf.Tensor, mask: tf.Tensor, threshold = 0.5): tf.Scalar {
  return tf.tidy(() => {
    const predicted = tf.cast(tf.greaterEqual(probabilities, threshold), 'float32');
    const y = tf.cast(tf.greater(asFloatLike(mask, probabilities), 0), 'float32');
    const intersection = tf.sum(tf.mul(predicted, y));
    const total = tf.add(tf.sum(predicted), tf.sum(y));
    const empty = tf.equal(total, 0);
    return tf.where(empty, tf.scalar(1), tf.div(tf.mul(intersection, 2), tf.maximum(total, 1))) as tf.Scalar;
  });
}

/** The mask as float32 in the shape of `like`, accepting a trailing channel of 1 on either side. */
function asFloatLike(mask: tf.Tensor, like: tf.Tensor): tf.Tensor {
  if (withoutTrailingOne(mask.shape).join() !== withoutTrailingOne(like.shape).join()) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `mask [${mask.shape}] does not match the prediction [${like.shape}]; pass one mask value per voxel`,
    );
  }
  const y = mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
  return tf.reshape(y, like.shape);
}

function withoutTrailingOne(shape: readonly number[]): readonly number[] {
  return shape.length > 1 && shape[shape.length - 1] === 1 ? shape.slice(0, -1) : shape;
}
