/** Tiles as they come off the wire: `[B, t0, t1, t2]` in C order, stored voxels (uint8) or voxel / 255. */
export interface TileTensor {
  readonly shape: readonly [number, number, number, number];
  readonly dtype: 'uint8' | 'float32';
  readonly image: Uint8Array | Float32Array;
}

/** What predicts tiles: foreground probabilities 0..1 of the same shape `[B, t0, t1, t2]`, C order. */
export interface TilePredictor {
  /** `checkpoint step-000000200 (V-Net depth 3, tfjs cpu)` or `identity`, for the log and the summary. */
  readonly name: string;
  predict(tiles: TileTensor): Promise<Float32Array>;
  dispose(): void;
}

/**
 * The identity model: every voxel's prediction is its stored value / 255. Merged with any overlap and either
 * weighting it gives back the input, so a written `<uid>_pred.nrrd` must equal the input image byte for byte
 * (round(255 * v / 255) = v): what the tests and the benchmark rely on, without tfjs or a checkpoint.
 */
export function identityPredictor(): TilePredictor {
  return {
    name: 'identity',
    predict: async (tiles) => {
      if (tiles.image instanceof Float32Array) return tiles.image;
      const out = new Float32Array(tiles.image.length);
      for (let i = 0; i < out.length; i++) out[i] = tiles.image[i]! / 255;
      return out;
    },
    dispose: () => {},
  };
}
