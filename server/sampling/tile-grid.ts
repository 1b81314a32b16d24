import type { Shape3, Vec3 } from './types.js';

/**
 * The tiles that cover one volume for sliding-window inference (StreamTiles): per axis, the origins of the
 * tiles along it; the volume's tiles are every combination, numbered with axis 0 slowest.
 */
export interface TileGrid {
  readonly volumeShape: Shape3;
  readonly tileSize: Shape3;
  /** Ascending tile origins along each axis. */
  readonly origins: readonly [readonly number[], readonly number[], readonly number[]];
  /** Tiles per axis (n0, n1, n2). */
  readonly counts: Shape3;
  /** n0 * n1 * n2. */
  readonly tiles: number;
}

/**
 * The tile origins along one axis of `volume` voxels for tiles of `tile` voxels overlapping by the share
 * `overlap` (0 <= overlap < 1) of a tile:
 * - volume <= tile: one tile at 0 (padded past the edge where the volume is smaller);
 * - otherwise n = ceil((volume - tile) / s) + 1 tiles, s = max(1, tile * (1 - overlap)) the largest step
 *   asked for, at floor(i * (volume - tile) / (n - 1) + 1/2): the first at 0, the last ending at the edge,
 *   the steps as even as integers allow (each at most ceil(s), their mean at most s). This is nnU-Net's
 *   sliding-window rule; tiles never run past an edge the volume covers.
 *
 * `overlap` is used as given: a float32 from the wire is its exact double value, so every implementation of
 * the rule that computes s and the quotient in double precision finds the same n. The origins themselves
 * are computed in integers (exact halves round up).
 */
export function axisTileOrigins(volume: number, tile: number, overlap: number): number[] {
  if (volume <= tile) return [0];
  const span = volume - tile;
  const step = Math.max(1, tile * (1 - overlap));
  const n = Math.ceil(span / step) + 1;
  const origins = new Array<number>(n);
  // floor(i * span / (n - 1) + 1/2) = floor((2 * i * span + (n - 1)) / (2 * (n - 1))), all integers exact.
  const gaps = n - 1;
  for (let i = 0; i < n; i++) origins[i] = Math.floor((2 * i * span + gaps) / (2 * gaps));
  return origins;
}

/** The grid of `volumeShape` for tiles of `tileSize` overlapping by `overlap` (a share per axis). */
export function tileGrid(volumeShape: Shape3, tileSize: Shape3, overlap: Vec3): TileGrid {
  const origins = [0, 1, 2].map((axis) =>
    axisTileOrigins(volumeShape[axis]!, tileSize[axis]!, overlap[axis]!),
  ) as unknown as TileGrid['origins'];
  const counts: Shape3 = [origins[0].length, origins[1].length, origins[2].length];
  return { volumeShape, tileSize, origins, counts, tiles: counts[0] * counts[1] * counts[2] };
}

/** The per-axis indices (i0, i1, i2) of tile `tile`, numbered t = (i0 * n1 + i1) * n2 + i2. */
export function tileIndices(grid: TileGrid, tile: number): Vec3 {
  if (!Number.isSafeInteger(tile) || tile < 0 || tile >= grid.tiles) {
    throw new RangeError(`tile ${tile} is not one of the grid's ${grid.tiles} tiles`);
  }
  const [, n1, n2] = grid.counts;
  const i2 = tile % n2;
  const rest = (tile - i2) / n2;
  const i1 = rest % n1;
  return [(rest - i1) / n1, i1, i2];
}

/** The number of the tile at per-axis indices (i0, i1, i2): (i0 * n1 + i1) * n2 + i2. */
export function tileNumber(grid: TileGrid, indices: Vec3): number {
  const [n0, n1, n2] = grid.counts;
  const [i0, i1, i2] = indices;
  if (![i0 < n0, i1 < n1, i2 < n2].every(Boolean) || Math.min(i0, i1, i2) < 0) {
    throw new RangeError(`tile indices (${indices.join(', ')}) are outside a ${n0}x${n1}x${n2} grid`);
  }
  return (i0 * n1 + i1) * n2 + i2;
}

/** The corner (o0, o1, o2) of tile `tile` in volume voxels. */
export function tileOrigin(grid: TileGrid, tile: number): Vec3 {
  const [i0, i1, i2] = tileIndices(grid, tile);
  return [grid.origins[0][i0]!, grid.origins[1][i1]!, grid.origins[2][i2]!];
}
