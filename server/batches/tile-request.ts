import { DType, type StreamTilesRequest } from '@voxelfeed/proto';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';
import { eligibleSeries, resolveSeriesSplit, type SeriesSplit } from '../sampling/series-split.js';
import { tileGrid } from '../sampling/tile-grid.js';
import type { Shape3, Vec3 } from '../sampling/types.js';
import { type CropRequestLimits, formatMiB, splitPartOf, type TensorDType } from './crop-request.js';
import type { DatasetRegistry, ServedDataset } from './served-dataset.js';
import { quoteShort, unknownDatasetError } from './unknown-dataset-error.js';

/** nnU-Net's default: neighbouring tiles share half a tile along every axis. */
export const DEFAULT_TILE_OVERLAP = 0.5;

/** Unknown or repeated uids named in one message, at most this many (the count says how many more). */
const MAX_UIDS_SHOWN = 5;

/** A StreamTiles request with every default filled in and every value checked. */
export interface TileRequest {
  readonly datasetName: string;
  readonly dataset: ServedDataset;
  /** Catalog indices of the series to tile, in the order they are sent. */
  readonly series: readonly number[];
  readonly tileSize: Shape3;
  /** Share of a tile that neighbours overlap, per axis, each 0 <= o < 1. */
  readonly overlap: Vec3;
  readonly batchSize: number;
  readonly dtype: TensorDType;
  readonly includeMask: boolean;
  /** Image value past an edge, an integer 0..255 in stored voxel units. */
  readonly padValue: number;
  /** Position in `series` to start at, and the tile number in that series. */
  readonly startSeries: number;
  readonly startTile: number;
}

/** Bytes of one tile's tensors in a message: the image in its dtype plus the uint8 mask if asked for. */
export function tileTensorBytes(request: Pick<TileRequest, 'tileSize' | 'dtype' | 'includeMask'>): number {
  const voxels = request.tileSize[0] * request.tileSize[1] * request.tileSize[2];
  return voxels * (request.dtype === 'float32' ? 4 : 1) + (request.includeMask ? voxels : 0);
}

/**
 * Checks a StreamTiles request against the data set and the server's limits (the same as for crops: a tile is
 * at most `maxCropVoxels`, a message at most `maxBatchBytes` and `maxBatchSize` tiles). Every problem is
 * reported at once in one INVALID_ARGUMENT that names the field, its value and the fix; an unknown data set is
 * NOT_FOUND, and a resume position past the end OUT_OF_RANGE with the valid range.
 */
export function resolveTileRequest(
  wire: StreamTilesRequest,
  registry: DatasetRegistry,
  limits: CropRequestLimits,
): TileRequest {
  const datasetName = wire.dataset === '' ? registry.defaultName : wire.dataset;
  const dataset = registry.datasets.get(datasetName);
  if (dataset === undefined) throw unknownDatasetError(wire.dataset, registry.datasets.keys());
  const problems: string[] = [];
  const tileSize = checkTileSize(wire.tileSize, limits.maxCropVoxels, problems);
  const overlap = checkOverlap(wire.overlap, problems);
  const batchSize = wire.batchSize === 0 ? 1 : wire.batchSize;
  if (batchSize > limits.maxBatchSize) {
    problems.push(
      `batch_size is ${batchSize}; the server sends at most ${limits.maxBatchSize} tiles per message; lower batch_size`,
    );
  }
  let dtype: TensorDType | null = null;
  if (wire.dtype === DType.DTYPE_UNSPECIFIED || wire.dtype === DType.DTYPE_UINT8) dtype = 'uint8';
  else if (wire.dtype === DType.DTYPE_FLOAT32) dtype = 'float32';
  else problems.push(`dtype is ${wire.dtype}; use DTYPE_UINT8 (1) or DTYPE_FLOAT32 (2)`);
  if (!Number.isInteger(wire.padValue) || wire.padValue < 0 || wire.padValue > 255) {
    problems.push(`pad_value is ${wire.padValue}; expected an integer 0..255 in stored voxel units`);
  }
  if (tileSize !== null && dtype !== null && batchSize <= limits.maxBatchSize) {
    const bytes = tileTensorBytes({ tileSize, dtype, includeMask: wire.includeMask }) * batchSize;
    if (bytes > limits.maxBatchBytes) {
      problems.push(
        `a message of ${batchSize} tiles ${tileSize.join('x')} ${dtype}${wire.includeMask ? ' + mask' : ''} takes ${formatMiB(bytes)}, over the server's limit of ${formatMiB(limits.maxBatchBytes)} (serve --max-batch-bytes); lower batch_size or tile_size, or use DTYPE_UINT8`,
      );
    }
  }
  const series = chooseSeries(wire, dataset, problems);
  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
  const request: TileRequest = {
    datasetName,
    dataset,
    series: series!,
    tileSize: tileSize!,
    overlap: overlap!,
    batchSize,
    dtype: dtype!,
    includeMask: wire.includeMask,
    padValue: wire.padValue,
    startSeries: wire.startSeries,
    startTile: 0,
  };
  return { ...request, startTile: checkResumePosition(wire, request) };
}

function checkTileSize(size: readonly number[], maxVoxels: number, problems: string[]): Shape3 | null {
  if (size.length !== 3) {
    problems.push(
      `tile_size has ${size.length} values; give 3 (s0, s1, s2) in NRRD axis order, e.g. tile_size 16, 96, 96`,
    );
    return null;
  }
  const bad = size.filter((value) => value < 1);
  if (bad.length > 0) {
    problems.push(`tile_size is ${size.join(', ')}; each value must be at least 1`);
    return null;
  }
  const [s0, s1, s2] = size as [number, number, number];
  // Exact even when the product passes 2^53 (uint32 sizes from the wire can).
  const voxels = BigInt(s0) * BigInt(s1) * BigInt(s2);
  if (voxels > BigInt(maxVoxels)) {
    problems.push(
      `tile ${s0}x${s1}x${s2} = ${voxels} voxels exceeds the server's limit of ${maxVoxels} voxels per tile (serve --max-crop-voxels); lower tile_size`,
    );
    return null;
  }
  return [s0, s1, s2];
}

function checkOverlap(overlap: readonly number[], problems: string[]): Vec3 | null {
  if (overlap.length === 0) return [DEFAULT_TILE_OVERLAP, DEFAULT_TILE_OVERLAP, DEFAULT_TILE_OVERLAP];
  if (overlap.length !== 1 && overlap.length !== 3) {
    problems.push(
      `overlap has ${overlap.length} values; give none (0.5 on every axis), one for every axis, or three (s0, s1, s2)`,
    );
    return null;
  }
  const bad = overlap.filter((value) => !(value >= 0 && value < 1));
  if (bad.length > 0) {
    problems.push(
      `overlap is ${overlap.join(', ')}; each value is the share of a tile that neighbours overlap, 0 <= overlap < 1 (0.5 is nnU-Net's default)`,
    );
    return null;
  }
  const [a, b = a, c = a] = overlap as [number, number?, number?];
  return [a, b, c];
}

/** The catalog indices of the series asked for: the uids named, or the split's series in catalog order. */
function chooseSeries(wire: StreamTilesRequest, dataset: ServedDataset, problems: string[]): number[] | null {
  const catalog = dataset.catalog.series;
  if (wire.seriesUids.length === 0) {
    try {
      const split: SeriesSplit = resolveSeriesSplit(
        wire.split === undefined
          ? undefined
          : { holdoutFraction: wire.split.holdoutFraction, part: splitPartOf(wire.split.part) },
      );
      return eligibleSeries(catalog, split);
    } catch (error) {
      if (!isVoxelfeedError(error)) throw error;
      problems.push(error.message);
      return null;
    }
  }
  if (wire.split !== undefined) {
    problems.push(
      `series_uids names ${wire.seriesUids.length} series and split is set too; send one of them: the series to tile, or the split whose series to tile`,
    );
  }
  const indexOf = new Map(catalog.map((series, index) => [series.uid, index]));
  const unknown = wire.seriesUids.filter((uid) => !indexOf.has(uid));
  if (unknown.length > 0) {
    problems.push(
      `series_uids names ${unknown.length} series this data set does not serve: ${listed(unknown)}; GetDatasetInfo lists the served series (a series skipped at start-up is not served)`,
    );
  }
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const uid of wire.seriesUids) {
    if (seen.has(uid)) repeated.add(uid);
    seen.add(uid);
  }
  if (repeated.size > 0) {
    problems.push(`series_uids names ${listed([...repeated])} more than once; name each series once`);
  }
  if (unknown.length > 0 || repeated.size > 0) return null;
  return wire.seriesUids.map((uid) => indexOf.get(uid)!);
}

/** The start tile as a number, or OUT_OF_RANGE when (start_series, start_tile) lies past the end. */
function checkResumePosition(wire: StreamTilesRequest, request: TileRequest): number {
  const count = request.series.length;
  if (wire.startSeries === 0 && wire.startTile === 0n) return 0;
  if (wire.startSeries >= count) {
    throw new VoxelfeedError(
      'OUT_OF_RANGE',
      `start_series is ${wire.startSeries} but the request lists ${count} series; resume at start_series ${count === 0 ? '0 with start_tile 0' : `0..${count - 1}`}`,
    );
  }
  const series = request.dataset.catalog.series[request.series[wire.startSeries]!]!;
  const tiles = tileGrid(series.shape, request.tileSize, request.overlap).tiles;
  if (wire.startTile >= BigInt(tiles)) {
    throw new VoxelfeedError(
      'OUT_OF_RANGE',
      `start_tile is ${wire.startTile} but series ${wire.startSeries} (${series.uid}) has ${tiles} tiles of ${request.tileSize.join('x')}; resume at start_tile 0..${tiles - 1}, or at the next series with start_tile 0`,
    );
  }
  return Number(wire.startTile);
}

function listed(uids: readonly string[]): string {
  const shown = uids.slice(0, MAX_UIDS_SHOWN).map(quoteShort).join(', ');
  return uids.length > MAX_UIDS_SHOWN ? `${shown} and ${uids.length - MAX_UIDS_SHOWN} more` : shown;
}
