import { accumulateTile, checkPrediction, divideRows, type RowSums, tileExtent } from './accumulate-tile.js';
import { FeedError } from './feed-error.js';
import { checkTileShape, importanceMap, TILE_WEIGHTINGS, type TileWeighting } from './importance-map.js';
import { checkShape, type Shape3 } from './shape3.js';

/** One tile's prediction (t0 * t1 * t2 float32, C order) at its origin (TileBatch.origins). */
export interface TilePrediction {
  readonly origin: readonly number[];
  readonly prediction: Float32Array;
}

export interface MergeTilesOptions {
  readonly volumeShape: Shape3;
  readonly tileShape: Shape3;
  /** Default `gaussian` (nnU-Net); `constant` for a plain average. */
  readonly weighting?: TileWeighting;
}

/**
 * The whole merged volume (v0 * v1 * v2 float32, C order) of tiles given in any order: the weighted average
 * sum(w * p) / sum(w) per voxel, as TileMerger computes it. It holds two whole-volume float32 buffers (12 bytes
 * per voxel at its peak): for small volumes, or tiles that do not come in the server's order. Throws if a voxel
 * got no tile.
 */
export async function mergeTilesInMemory(
  options: MergeTilesOptions,
  tiles: Iterable<TilePrediction> | AsyncIterable<TilePrediction>,
): Promise<Float32Array> {
  const { volumeShape, tileShape } = options;
  checkShape('volume shape', volumeShape, 'e.g. TileBatch.volume_shape [300, 512, 512]');
  checkTileShape(tileShape);
  const weighting = options.weighting ?? 'gaussian';
  if (!TILE_WEIGHTINGS.includes(weighting)) {
    const details = `weighting is ${JSON.stringify(weighting)}; use 'gaussian' (nnU-Net) or 'constant' (plain average)`;
    throw new FeedError('INVALID_ARGUMENT', details, `tile merger: ${details}`);
  }
  const weights = importanceMap(tileShape, weighting);
  const [v0, v1, v2] = volumeShape;
  const plane = [v1, v2] as const;
  const volume: RowSums = {
    sums: new Float32Array(v0 * v1 * v2),
    weightSums: new Float32Array(v0 * v1 * v2),
    slot: (row) => row,
  };
  for await (const { origin, prediction } of tiles) {
    const extent = tileExtent(origin, volumeShape, tileShape);
    checkPrediction(prediction, tileShape, origin);
    accumulateTile(volume, plane, origin, extent, tileShape, prediction, weights);
  }
  const merged = new Float32Array(v0 * v1 * v2);
  divideRows(volume, plane, 0, v0, merged);
  return merged;
}
