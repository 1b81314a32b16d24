import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * The foreground logit [B, s0, s1, s2] of either head's output [B, s0, s1, s2, 1 | 2].
 *
 * For the two-channel softmax head, softmax(l0, l1)[1] = 1 / (1 + exp(l0 - l1)) = sigmoid(l1 - l0), so the
 * logit difference is an exact foreground logit: both heads then share one sigmoid, one Dice and one stable
 * binary cross-entropy (which for two classes equals the softmax cross-entropy).
 */
export function foregroundLogit(logits: tf.Tensor5D): tf.Tensor4D {
  const [batch, s0, s1, s2, channels] = logits.shape;
  if (channels === 1) return tf.reshape(logits, [batch, s0, s1, s2]);
  if (channels === 2) {
    // (l0, l1) . (-1, 1) as one matrix product: a channel slice of a rank-5 tensor is slow on CPU and WASM.
    return tf.tidy(() => {
      const difference = tf.matMul(tf.reshape(logits, [batch * s0 * s1 * s2, 2]), tf.tensor2d([[-1], [1]]));
      return tf.reshape(difference, [batch, s0, s1, s2]);
    });
  }
  throw new VoxelfeedError(
    'INVALID_ARGUMENT',
    `logits [${logits.shape}] have ${channels} channels; a V-Net head gives 1 (sigmoid) or 2 (softmax2)`,
  );
}

/** The probability of the foreground [B, s0, s1, s2] under either head. */
export function foregroundProbability(logits: tf.Tensor5D): tf.Tensor4D {
  return tf.tidy(() => tf.sigmoid(foregroundLogit(logits)));
}
