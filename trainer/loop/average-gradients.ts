import * as tf from '@tensorflow/tfjs-core';
import type { ProcessGroup } from '../collective/process-group.js';

/**
 * Averages this rank's gradients with every other rank's: the gradients of `variables`, in that order, are
 * copied into one Float32Array with this rank's loss as one extra last element (so the mean loss over ranks
 * rides in the same exchange), `allReduceMean` replaces it by the element-wise mean, and the mean gradients
 * come back as tensors keyed by variable name, as `optimizer.applyGradients` takes them. The order is the
 * model's fixed variable order, the same on every rank. The caller disposes both maps.
 */
export async function averageGradients(
  group: ProcessGroup,
  variables: readonly tf.Variable[],
  grads: tf.NamedTensorMap,
  loss: number,
  step: number,
): Promise<{ grads: tf.NamedTensorMap; meanLoss: number }> {
  const total = variables.reduce((sum, variable) => sum + variable.size, 0);
  const flat = new Float32Array(total + 1);
  let offset = 0;
  for (const variable of variables) {
    const grad = grads[variable.name];
    // A variable the loss does not reach has no gradient: it counts as zeros, as on every other rank.
    if (grad !== undefined) flat.set(await grad.data<'float32'>(), offset);
    offset += variable.size;
  }
  flat[total] = loss;
  await group.allReduceMean(flat, step);
  const averaged: tf.NamedTensorMap = {};
  offset = 0;
  for (const variable of variables) {
    averaged[variable.name] = tf.tensor(
      flat.subarray(offset, offset + variable.size),
      variable.shape,
      'float32',
    );
    offset += variable.size;
  }
  return { grads: averaged, meanLoss: flat[total]! };
}
