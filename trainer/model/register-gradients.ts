import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Makes `tf.variableGrads` and `optimizer.minimize` work with `@tensorflow/tfjs-core` alone.
 *
 * tfjs-core's Node bundle (`dist/tf-core.node.js`) holds the ops but none of their gradients: the union
 * package `@tensorflow/tfjs` (which tfjs-node pulls in) registers them by importing
 * `@tensorflow/tfjs-core/dist/register_all_gradients`, an ES-module tree with extension-less imports that
 * Node's ESM resolver refuses. `require()` resolves those paths and tsx compiles the ESM syntax, so the tree
 * loads (about 0.4 s once tsx has cached it). The gradient registry and the engine live on `globalThis`,
 * shared by every copy of tfjs-core, so registering from this copy reaches the bundle `import * as tf` uses.
 *
 * Idempotent: the check reads tfjs's own registry, so no state is kept here.
 */
export function registerTfjsGradients(): void {
  if (tf.getGradient(tf.Conv3D) !== undefined) return;
  createRequire(import.meta.url)('@tensorflow/tfjs-core/dist/register_all_gradients');
  if (tf.getGradient(tf.Conv3D) === undefined) {
    throw new Error('loading @tensorflow/tfjs-core/dist/register_all_gradients registered no gradient');
  }
}
