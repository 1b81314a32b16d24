import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * SHA-256 of the variables' float32 bytes, in the order given (the model's fixed order): equal on two ranks
 * exactly when they hold bit-identical weights, so users and tests can check that ranks agree.
 */
export async function weightsSha256(variables: readonly tf.Variable[]): Promise<string> {
  const hash = createHash('sha256');
  for (const variable of variables) {
    const values = await variable.data<'float32'>();
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return hash.digest('hex');
}
