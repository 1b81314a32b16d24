import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * A stride-1 'same' 3-D convolution with an odd kernel, and an explicit gradient that avoids the kernel
 * `Conv3DBackpropInputV2`.
 *
 * Why: in @tensorflow/tfjs-backend-wasm 4.22.0 that kernel is wrong (its depth loop ignores the voxel's
 * position, `conv3d_impl.h`: `yf_max = min(out_depth, filter_depth / stride_depth)`; with stride 2 the
 * row/column bounds are also off by one, as are those of `Conv3DBackpropFilterV2`). It returns wrong input
 * gradients, sometimes NaN, and training on WASM diverges. The forward `Conv3D` and the stride-1 filter
 * gradient are right on every backend, and they suffice:
 *
 * - dL/dx = conv3d(dy, W flipped on the three spatial axes with in/out channels swapped, 'same'): for an odd
 *   kernel the 'same' padding is symmetric, so the adjoint of the convolution is this convolution;
 * - dL/dW = `Conv3DBackpropFilterV2` with stride 1.
 *
 * The maths is that of tfjs's own gradient, so on the CPU and TensorFlow backends the result is the same.
 */
export function conv3dSame(x: tf.Tensor5D, kernel: tf.Tensor5D): tf.Tensor5D {
  const [kd, kh, kw] = kernel.shape;
  if (kd % 2 === 0 || kh % 2 === 0 || kw % 2 === 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `conv3dSame needs an odd kernel for symmetric 'same' padding, got [${kernel.shape}]`,
    );
  }
  return withGradient(x, kernel);
}

const withGradient = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, kernel, save] = args as [tf.Tensor5D, tf.Tensor5D, tf.GradSaveFunc];
  save([x, kernel]);
  return {
    value: tf.conv3d(x, kernel, 1, 'same'),
    gradFunc: (dy: tf.Tensor5D, saved: tf.Tensor[]) => {
      const [input, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const adjoint = adjointKernel(filter);
      const dx = tf.conv3d(dy, adjoint, 1, 'same');
      const inputs: tf.NamedTensorMap = { x: input, dy };
      const attrs = { strides: [1, 1, 1, 1, 1], pad: 'same', filterShape: filter.shape };
      const dw = tf.engine().runKernel(tf.Conv3DBackpropFilterV2, inputs, attrs) as tf.Tensor5D;
      return [dx, dw];
    },
  };
}) as (x: tf.Tensor5D, kernel: tf.Tensor5D) => tf.Tensor5D;

/**
 * The kernel flipped on its three spatial axes with input and output channels swapped. Flipping all three axes
 * reverses the flat spatial index (k^3 - 1 - i), so one reverse of a [k^3, C_in * C_out] view does it: the CPU
 * backend's rank-5 reverse is several times slower.
 */
function adjointKernel(filter: tf.Tensor5D): tf.Tensor5D {
  const [kd, kh, kw, inChannels, outChannels] = filter.shape;
  const flipped = tf.reverse(tf.reshape(filter, [kd * kh * kw, inChannels * outChannels]), 0);
  return tf.transpose(tf.reshape(flipped, filter.shape), [0, 1, 2, 4, 3]);
}
