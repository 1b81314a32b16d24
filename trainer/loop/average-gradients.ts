import * as tf from '@tensorflow/tfjs-core';
import type { ProcessGroup } from '../collective/process-group.js';
import { DEFAULT_BUCKET_ELEMENTS, gradientBuckets } from './gradient-buckets.js';

/**
 * Averages this rank's gradients with every other rank's and returns the mean gradients as tensors keyed by
 * variable name, as `optimizer.applyGradients` takes them; the caller disposes both maps.
 *
 * The gradients are exchanged in buckets (`gradientBuckets`), the last layers' first: each bucket's
 * `allReduceMean` starts as soon as its gradients are on the host, and the group runs the calls one at a time
 * in call order, so on a GPU backend the exchange of one bucket overlaps the device finishing the gradients of
 * the next (on the CPU and WASM backends the gradients are all there already and the buckets go back to back).
 * This rank's loss rides as one extra last element of the final bucket, so the mean loss over ranks costs no
 * exchange of its own. The cut and the order depend only on the model's variables, the same on every rank, and
 * each bucket is summed in the group's fixed order: every rank gets the same bits.
 */
export async function averageGradients(
  group: ProcessGroup,
  variables: readonly tf.Variable[],
  grads: tf.NamedTensorMap,
  loss: number,
  step: number,
  bucketElements: number = DEFAULT_BUCKET_ELEMENTS,
): Promise<{ grads: tf.NamedTensorMap; meanLoss: number }> {
  const cut = gradientBuckets(
    variables.map((variable) => variable.size),
    bucketElements,
  );
  // A model without variables still exchanges its loss.
  const buckets = cut.length > 0 ? cut : [{ first: 0, end: 0, size: 0 }];
  const exchanges: Promise<void>[] = [];
  const flats: Float32Array[] = [];
  try {
    for (const [at, bucket] of buckets.entries()) {
      const last = at === buckets.length - 1;
      const flat = new Float32Array(bucket.size + (last ? 1 : 0));
      let offset = 0;
      for (let v = bucket.first; v < bucket.end; v++) {
        const variable = variables[v]!;
        const grad = grads[variable.name];
        // A variable the loss does not reach has no gradient: it counts as zeros, as on every other rank.
        if (grad !== undefined) flat.set(await grad.data<'float32'>(), offset);
        offset += variable.size;
      }
      if (last) flat[bucket.size] = loss;
      flats.push(flat);
      const exchange = group.allReduceMean(flat, step);
      // Observed now: it may fail while the next bucket's gradients are still being read.
      exchange.catch(() => {});
      exchanges.push(exchange);
    }
  } finally {
    // Every started exchange is awaited (or its rejection observed) before anything is thrown.
    await Promise.allSettled(exchanges);
  }
  await Promise.all(exchanges);
  const averaged: tf.NamedTensorMap = {};
  let meanLoss = loss;
  for (const [at, bucket] of buckets.entries()) {
    const flat = flats[at]!;
    let offset = 0;
    for (let v = bucket.first; v < bucket.end; v++) {
      const variable = variables[v]!;
      averaged[variable.name] = tf.tensor(
        flat.subarray(offset, offset + variable.size),
        variable.shape,
        'float32',
      );
      offset += variable.size;
    }
    if (at === buckets.length - 1) meanLoss = flat[bucket.size]!;
  }
  return { grads: averaged, meanLoss };
}
