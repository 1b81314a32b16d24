import { FeedError } from './feed-error.js';
import type { Shape3 } from './shape3.js';

/**
 * Running sums of a weighted average over rows of a volume along axis 0: `sums` and `weightSums` hold
 * `rows` rows of v1 * v2 float32 values each (C order); volume row r lives in buffer row `slot(r)`.
 */
export interface RowSums {
  readonly sums: Float32Array;
  readonly weightSums: Float32Array;
  readonly slot: (row: number) => number;
}

/**
 * The part of a tile at `origin` inside the volume, per axis: `min(t, v - o)` voxels. Throws INVALID_ARGUMENT
 * naming the origin unless it is three integers with 0 <= o < v (a tile may run past the far edge, where the
 * server pads volumes smaller than the tile: that part is dropped).
 */
export function tileExtent(origin: readonly number[], volumeShape: Shape3, tileShape: Shape3): Shape3 {
  const inside =
    origin.length === 3 &&
    origin.every((o, axis) => Number.isSafeInteger(o) && o >= 0 && o < volumeShape[axis]!);
  if (!inside) {
    const details =
      `tile origin [${origin.join(', ')}] is outside the volume of shape [${volumeShape.join(', ')}]; ` +
      'give 3 integers with 0 <= o < size per axis (TileBatch.origins, 3 per tile)';
    throw new FeedError('INVALID_ARGUMENT', details, `tile merger: ${details}`);
  }
  return [
    Math.min(tileShape[0], volumeShape[0] - origin[0]!),
    Math.min(tileShape[1], volumeShape[1] - origin[1]!),
    Math.min(tileShape[2], volumeShape[2] - origin[2]!),
  ];
}

/** Throws INVALID_ARGUMENT unless `prediction` is a Float32Array of one channel of the tile shape. */
export function checkPrediction(
  prediction: Float32Array,
  tileShape: Shape3,
  origin: readonly number[],
): void {
  const voxels = tileShape[0] * tileShape[1] * tileShape[2];
  if (!(prediction instanceof Float32Array) || prediction.length !== voxels) {
    const got =
      prediction instanceof Float32Array
        ? `${prediction.length} values`
        : `a ${(prediction as object | null)?.constructor?.name ?? String(prediction)}`;
    const details =
      `the prediction of the tile at [${origin.join(', ')}] holds ${got}; tile shape ` +
      `[${tileShape.join(', ')}] needs a Float32Array of ${voxels} (one channel, C order)`;
    throw new FeedError('INVALID_ARGUMENT', details, `tile merger: ${details}`);
  }
}

/**
 * Adds `weights * prediction` and `weights` of the tile at `origin` to the sums of the voxels it covers
 * inside the volume (its `extent`); the part past the volume's edge is dropped. Copies run along the tile's
 * contiguous last axis, row by row.
 */
export function accumulateTile(
  into: RowSums,
  plane: readonly [number, number],
  origin: readonly number[],
  extent: Shape3,
  tileShape: Shape3,
  prediction: Float32Array,
  weights: Float32Array,
): void {
  const [v1, v2] = plane;
  const [, t1, t2] = tileShape;
  const [e0, e1, e2] = extent;
  const { sums, weightSums } = into;
  const o1 = origin[1]!;
  const o2 = origin[2]!;
  for (let i = 0; i < e0; i++) {
    const rowStart = into.slot(origin[0]! + i) * v1 * v2;
    for (let j = 0; j < e1; j++) {
      const target = rowStart + (o1 + j) * v2 + o2;
      const source = (i * t1 + j) * t2;
      for (let k = 0; k < e2; k++) {
        const w = weights[source + k]!;
        sums[target + k]! += w * prediction[source + k]!;
        weightSums[target + k]! += w;
      }
    }
  }
}

/**
 * Divides the sums of `count` volume rows from `first` into `out` (count * v1 * v2 values, C order) and
 * clears those sums. Throws FAILED_PRECONDITION naming the first voxel that no tile covered: its rows cannot be
 * averaged (a tile is missing from the grid).
 */
export function divideRows(
  from: RowSums,
  plane: readonly [number, number],
  first: number,
  count: number,
  out: Float32Array,
): void {
  const voxels = plane[0] * plane[1];
  const { sums, weightSums } = from;
  for (let r = 0; r < count; r++) {
    const base = from.slot(first + r) * voxels;
    const target = r * voxels;
    for (let v = 0; v < voxels; v++) {
      const weight = weightSums[base + v]!;
      if (!(weight > 0)) throw uncovered(first + r, v, plane);
      out[target + v] = sums[base + v]! / weight;
    }
    sums.fill(0, base, base + voxels);
    weightSums.fill(0, base, base + voxels);
  }
}

export function uncovered(row: number, inPlane: number, plane: readonly [number, number]): FeedError {
  const voxel = [row, Math.floor(inPlane / plane[1]), inPlane % plane[1]];
  const details =
    `voxel [${voxel.join(', ')}] got no tile; add every tile of the series' grid ` +
    '(TileBatch.tiles_in_series) before its rows are final';
  return new FeedError('FAILED_PRECONDITION', details, `tile merger: ${details}`);
}
