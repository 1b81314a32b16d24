import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * The V-Net's 2x2x2 stride-2 down-convolution, `tf.conv3d(x, kernel, 2, 'valid')`, computed as a space-to-depth
 * reshuffle followed by one matrix product.
 *
 * The 2x2x2 windows do not overlap, so each output voxel is the dot product of its own block (8 * C_in values,
 * ordered (a, b, c, ci)) with the kernel flattened in the same order, which is the kernel's own C order:
 * reshape([2, 2, 2, C_in, C_out] -> [8 C_in, C_out]). Besides being exact, this avoids the stride-2 conv3d
 * gradient kernels, which are wrong on @tensorflow/tfjs-backend-wasm 4.22.0 (see conv3d-same.ts), and runs
 * faster than the naive strided conv3d of the CPU and WASM backends.
 */
export function downConv3d(x: tf.Tensor5D, kernel: tf.Tensor5D): tf.Tensor5D {
  const [kd, kh, kw, inChannels, outChannels] = kernel.shape;
  if (kd !== 2 || kh !== 2 || kw !== 2 || inChannels !== x.shape[4]) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `down-convolution kernel [${kernel.shape}] does not fit input [${x.shape}]; expected [2, 2, 2, ${x.shape[4]}, C_out]`,
    );
  }
  return tf.tidy(() => {
    const blocks = spaceToDepth3d(x);
    const [batch, d, h, w, depth] = blocks.shape;
    const flat = tf.reshape(blocks, [batch * d * h * w, depth]);
    const out = tf.matMul(flat, tf.reshape(kernel, [8 * inChannels, outChannels]));
    return tf.reshape(out, [batch, d, h, w, outChannels]);
  });
}

/**
 * [B, 2D, 2H, 2W, C] -> [B, D, H, W, 8 C] with channels ordered (a, b, c, C): the inverse of `depthToSpace3d`,
 * with two rank-4 transposes for the same reason.
 */
export function spaceToDepth3d(x: tf.Tensor5D): tf.Tensor5D {
  const [batch, s0, s1, s2, channels] = x.shape;
  if (s0 % 2 !== 0 || s1 % 2 !== 0 || s2 % 2 !== 0) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `space-to-depth needs even sides, got [${x.shape}]`);
  }
  const [d, h, w] = [s0 / 2, s1 / 2, s2 / 2];
  // Memory [B, D, a, H, b, W, c, C]: view as [B*D*a*H, b, W, (c, C)] and move b after W.
  const bMoved = tf.transpose(tf.reshape(x, [batch * d * 2 * h, 2, w, 2 * channels]), [0, 2, 1, 3]);
  // Memory [B, D, a, H, W, b, c, C]: view as [B*D, a, H*W, (b, c, C)] and move a after H*W.
  const aMoved = tf.transpose(tf.reshape(bMoved, [batch * d, 2, h * w, 4 * channels]), [0, 2, 1, 3]);
  return tf.reshape(aMoved, [batch, d, h, w, 8 * channels]);
}
