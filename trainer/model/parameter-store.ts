import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * Creates a model's variables under stable names ('enc0/conv0/kernel') and keeps them in creation order.
 *
 * Every random tensor draws from `tf.randomNormal` with a seed derived from (model seed, variable name), so a
 * variable's initial value depends on neither creation order nor other variables: two models with the same
 * seed start identical, and adding a layer leaves the others' initial weights unchanged. tfjs generates seeded
 * random values in JavaScript before any backend sees them, so they are the same on every backend.
 *
 * The names are only the map's keys: tfjs's own variable names are left unique (auto-generated) because its
 * engine refuses two variables of the same name, which would forbid two models in one process.
 */
export interface ParameterStore {
  readonly variables: Map<string, tf.Variable>;
  /** A trainable tensor of normal values with standard deviation `std`. */
  normal<R extends tf.Rank>(name: string, shape: tf.ShapeMap[R], std: number): tf.Variable<R>;
  /** A tensor filled with `value`; running statistics pass `trainable: false`. */
  constant<R extends tf.Rank>(
    name: string,
    shape: tf.ShapeMap[R],
    value: number,
    trainable?: boolean,
  ): tf.Variable<R>;
}

export function createParameterStore(seed: number): ParameterStore {
  const variables = new Map<string, tf.Variable>();

  function add<R extends tf.Rank>(name: string, initial: tf.Tensor<R>, trainable: boolean): tf.Variable<R> {
    if (variables.has(name)) {
      initial.dispose();
      throw new VoxelfeedError('INTERNAL', `variable ${name} is created twice`);
    }
    const variable = tf.variable(initial, trainable);
    initial.dispose();
    variables.set(name, variable);
    return variable;
  }

  return {
    variables,
    normal<R extends tf.Rank>(name: string, shape: tf.ShapeMap[R], std: number): tf.Variable<R> {
      const initial = tf.randomNormal(shape, 0, std, 'float32', variableSeed(seed, name)) as tf.Tensor<R>;
      return add(name, initial, true);
    },
    constant<R extends tf.Rank>(
      name: string,
      shape: tf.ShapeMap[R],
      value: number,
      trainable = true,
    ): tf.Variable<R> {
      return add(name, tf.fill(shape, value, 'float32') as tf.Tensor<R>, trainable);
    },
  };
}

/** FNV-1a over the name, started from the seed: a stable 32-bit integer per (seed, name). */
export function variableSeed(seed: number, name: string): number {
  let hash = (0x811c_9dc5 ^ (seed >>> 0) ^ Math.floor(seed / 0x1_0000_0000)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    hash = Math.imul(hash ^ name.charCodeAt(i), 0x0100_0193) >>> 0;
  }
  return hash;
}
