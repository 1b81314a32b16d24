import * as tf from '@tensorflow/tfjs-core';
import type { VNet } from '../model/vnet.js';
import type { NamedValues } from './checkpoint-store.js';

/** The model's variables under their stable names, as float32 values for a checkpoint. */
export async function readModelState(model: VNet): Promise<NamedValues[]> {
  const entries = [...model.variables.entries()];
  return Promise.all(
    entries.map(async ([name, variable]) => ({
      name,
      shape: variable.shape,
      values: Float32Array.from(await variable.data()),
    })),
  );
}

/** Assigns saved values to the model's variables; every variable must be present with its shape. */
export function writeModelState(model: VNet, saved: readonly NamedValues[]): void {
  const byName = new Map(saved.map((entry) => [entry.name, entry]));
  for (const [name, variable] of model.variables) {
    const entry = byName.get(name);
    if (entry === undefined)
      throw new Error(`the checkpoint has no variable ${name}; it was written by another model`);
    if (entry.shape.join('x') !== variable.shape.join('x')) {
      throw new Error(
        `variable ${name} is [${variable.shape}] but the checkpoint has [${entry.shape}]; it was written by another model`,
      );
    }
    variable.assign(tf.tensor(entry.values, variable.shape, 'float32'));
  }
}

/**
 * The optimizer's slots (Adam's moments, its step counter) under stable names. tfjs names a slot after the
 * variable's engine name, which is generated per process, so slots are renamed to the model's stable names
 * on the way out and back on the way in.
 */
export async function readOptimizerState(model: VNet, optimizer: tf.Optimizer): Promise<NamedValues[]> {
  const stableOf = new Map([...model.variables.entries()].map(([name, variable]) => [variable.name, name]));
  const weights = await optimizer.getWeights();
  return Promise.all(
    weights.map(async ({ name, tensor }) => ({
      name: renamePrefix(name, stableOf),
      shape: tensor.shape,
      values: Float32Array.from(await tensor.data()),
    })),
  );
}

export async function writeOptimizerState(
  model: VNet,
  optimizer: tf.Optimizer,
  saved: readonly NamedValues[],
): Promise<void> {
  const engineOf = new Map([...model.variables.entries()].map(([name, variable]) => [name, variable.name]));
  await optimizer.setWeights(
    saved.map((entry) => ({
      name: renamePrefix(entry.name, engineOf),
      tensor: tf.tensor(entry.values, [...entry.shape], 'float32'),
    })),
  );
}

/** Replaces the variable-name part of a slot name ('<variable>/m') using `names`; other names pass through. */
function renamePrefix(slot: string, names: ReadonlyMap<string, string>): string {
  for (const [from, to] of names) {
    if (slot.startsWith(`${from}/`)) return `${to}${slot.slice(from.length)}`;
  }
  return slot;
}
