import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { require as tsxRequire } from 'tsx/cjs/api';

const GRADIENTS = '@tensorflow/tfjs-core/dist/register_all_gradients';

/**
 * Makes `tf.variableGrads` and `optimizer.minimize` work with `@tensorflow/tfjs-core` alone.
 *
 * tfjs-core's Node bundle (`dist/tf-core.node.js`) holds the ops but none of their gradients: the union
 * package `@tensorflow/tfjs` (which tfjs-node pulls in) registers them by importing
 * `@tensorflow/tfjs-core/dist/register_all_gradients`, an ES-module tree with extension-less imports that
 * Node's ESM resolver refuses. Resolved the CommonJS way and compiled by tsx, it loads: through plain
 * `require()` when tsx's CommonJS hook is installed (`node --import tsx`), else through tsx's scoped `require`
 * (`bin/voxelfeed-dev.js` registers only tsx's ESM loader; the compiled trainer runs without tsx's loaders,
 * which is why tsx is one of its dependencies). The gradient registry and the engine live on
 * `globalThis`, shared by every copy of tfjs-core, so registering from this copy reaches the bundle that
 * `import * as tf` uses.
 *
 * Idempotent: the check reads tfjs's own registry, so no state is kept here.
 */
export function registerTfjsGradients(): void {
  if (tf.getGradient(tf.Conv3D) !== undefined) return;
  try {
    // Fast (0.4 s) when tsx's CommonJS hook is installed (`node --import tsx`, the tests): it compiles the tree.
    createRequire(import.meta.url)(GRADIENTS);
  } catch {
    // Without the hook, Node refuses the tree while linking it, before running any of it; tsx's scoped
    // require works everywhere but takes about 1.5 s.
    tsxRequire(GRADIENTS, import.meta.url);
  }
  if (tf.getGradient(tf.Conv3D) === undefined) {
    throw new Error(`loading ${GRADIENTS} registered no gradient`);
  }
}
