import * as tf from '@tensorflow/tfjs-core';
import { writeModelState } from '../checkpoint/model-state.js';
import { createVNet } from '../model/vnet.js';
import type { InferenceCheckpoint } from './read-inference-checkpoint.js';
import type { TilePredictor } from './tile-predictor.js';

/**
 * The checkpoint's V-Net in inference mode (batch norm on its running statistics) on the active tfjs backend:
 * tiles become float32 `[B, t0, t1, t2, 1]` input (voxel / 255, as in training) and come back as foreground
 * probabilities. The caller has chosen the backend and checked the tile size.
 */
export function vnetPredictor(checkpoint: InferenceCheckpoint, backend: string): TilePredictor {
  const model = createVNet(checkpoint.model);
  try {
    writeModelState(model, checkpoint.variables);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return {
    name: `${checkpoint.name} (V-Net depth ${model.config.depth}, tfjs ${backend})`,
    async predict(tiles) {
      const [b, t0, t1, t2] = tiles.shape;
      const probabilities = tf.tidy(() => {
        const raw = tf.tensor(tiles.image, [b, t0, t1, t2, 1], 'float32') as tf.Tensor5D;
        const x = tiles.dtype === 'uint8' ? (tf.div(raw, 255) as tf.Tensor5D) : raw;
        return model.predict(x);
      });
      try {
        return (await probabilities.data()) as Float32Array;
      } finally {
        probabilities.dispose();
      }
    },
    dispose: () => model.dispose(),
  };
}
