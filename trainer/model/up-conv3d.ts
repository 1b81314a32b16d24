import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * The V-Net's 2x2x2 stride-2 up-convolution, built from differentiable ops because tfjs-core registers no
 * gradient for `conv3dTranspose`.
 *
 * With kernel size equal to stride, each input voxel feeds its own 2x2x2 output block and no two blocks
 * overlap: output(2i+a, 2j+b, 2k+c, o) = sum over ci of x(i, j, k, ci) * K[a, b, c, o, ci]. That is a 1x1x1
 * convolution to 8 * C_out channels (one matrix product over the voxels) followed by a depth-to-space
 * reshuffle of the 8 sub-positions into the 2x2x2 block.
 *
 * Weight layout: `kernel` is [C_in, 8 * C_out] and column ((a * 2 + b) * 2 + c) * C_out + o holds K[a, b, c, o, :]
 * (see `upKernelFromTransposeKernel`).
 */
export function upConv3d(x: tf.Tensor5D, kernel: tf.Tensor2D): tf.Tensor5D {
  const outChannels = kernel.shape[1] / 8;
  if (kernel.shape[0] !== x.shape[4] || !Number.isInteger(outChannels)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `up-convolution kernel [${kernel.shape}] does not fit input [${x.shape}]; expected [${x.shape[4]}, 8 * C_out]`,
    );
  }
  return depthToSpace3d(pointwiseConv3d(x, kernel), outChannels);
}

/** A 1x1x1 convolution as one matrix product: faster than `conv3d` on the CPU and WASM backends. */
export function pointwiseConv3d(x: tf.Tensor5D, kernel: tf.Tensor2D): tf.Tensor5D {
  const [batch, s0, s1, s2, inChannels] = x.shape;
  const flat = tf.reshape(x, [batch * s0 * s1 * s2, inChannels]);
  return tf.reshape(tf.matMul(flat, kernel), [batch, s0, s1, s2, kernel.shape[1]]);
}

/**
 * [B, D, H, W, 8 * C] with channels ordered (a, b, c, C) -> [B, 2D, 2H, 2W, C]. The direct route is one rank-8
 * transpose; two rank-4 transposes do the same and run on every backend (WebGL and some native kernels stop
 * at rank 6).
 */
export function depthToSpace3d(y: tf.Tensor5D, channels: number): tf.Tensor5D {
  const [batch, d, h, w] = y.shape;
  // [B*D, H*W, a, (b, c, C)] -> [B*D, a, H*W, (b, c, C)]: memory is now [B, D, a, H, W, b, c, C].
  const aMoved = tf.transpose(tf.reshape(y, [batch * d, h * w, 2, 4 * channels]), [0, 2, 1, 3]);
  // [B*D*a*H, W, b, (c, C)] -> [B*D*a*H, b, W, (c, C)]: memory is now [B, D, a, H, b, W, c, C].
  const bMoved = tf.transpose(tf.reshape(aMoved, [batch * d * 2 * h, w, 2, 2 * channels]), [0, 2, 1, 3]);
  return tf.reshape(bMoved, [batch, 2 * d, 2 * h, 2 * w, channels]);
}

/**
 * Converts a `tf.conv3dTranspose` filter [2, 2, 2, C_out, C_in] (stride 2, 'valid') into the [C_in, 8 * C_out]
 * kernel of `upConv3d` that computes the same function.
 */
export function upKernelFromTransposeKernel(filter: tf.Tensor5D): tf.Tensor2D {
  const [kd, kh, kw, outChannels, inChannels] = filter.shape;
  if (kd !== 2 || kh !== 2 || kw !== 2) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `expected a 2x2x2 filter, got [${filter.shape}]`);
  }
  return tf.reshape(tf.transpose(filter, [4, 0, 1, 2, 3]), [inChannels, 8 * outChannels]);
}
