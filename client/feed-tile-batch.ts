import { TileBatch } from '@voxelfeed/proto';
import { float32View, splitTensorFields, type TensorFieldNumbers } from './decode-batch.js';
import { type TensorDType, tensorDType } from './feed-batch.js';
import { FeedError } from './feed-error.js';
import type { Shape3 } from './shape3.js';

/**
 * Consecutive tiles of one series as StreamTiles sends them: tensors as typed views over the received
 * message, C order `[B, t0, t1, t2]`, where `image[b][i][j][k]` is voxel `origins[b] + (i, j, k)`; and what a
 * merge needs to place them without asking anything else (the volume's shape, the grid, the tile numbers).
 */
export interface FeedTileBatch {
  readonly seriesUid: string;
  /** Position of the series in the request's list (`startSeries` resumes there). */
  readonly seriesIndex: number;
  /** Series in the request's list. */
  readonly seriesCount: number;
  /** (s0, s1, s2) in NRRD axis order. */
  readonly volumeShape: Shape3;
  /** Tiles per axis (n0, n1, n2); tile t = (i0 * n1 + i1) * n2 + i2. */
  readonly grid: Shape3;
  /** The number of the first tile; the message's tiles are consecutive. */
  readonly firstTile: number;
  /** n0 * n1 * n2. */
  readonly tilesInSeries: number;
  /** `[B, t0, t1, t2]`; B is below the batch size only at a series' end. */
  readonly shape: readonly [number, number, number, number];
  readonly dtype: TensorDType;
  /** `B * t0 * t1 * t2` values: stored voxels (uint8) or voxel / 255 (float32); pad_value past an edge. */
  readonly image: Uint8Array | Float32Array;
  /** uint8 0/1 (0 past an edge), same length as `image`; null when the request did not ask for masks. */
  readonly mask: Uint8Array | null;
  /** Corner of each tile in volume voxels. */
  readonly origins: readonly Shape3[];
  /** Voxel spacing per axis (mm) from the image header; empty when unknown. */
  readonly spacing: readonly number[];
  /** Size of the encoded message, for throughput figures. */
  readonly wireBytes: number;
}

/** TileBatch.image, TileBatch.mask and TileBatch.padding. */
const TILE_TENSOR_FIELDS: TensorFieldNumbers = { image: 10, mask: 11, padding: 14 };

/**
 * Decodes an encoded `voxelfeed.v1.TileBatch` without copying its tensors (as decodeBatch does for a Batch:
 * a float32 image is a view when aligned, as the server's padding field makes it, else copied once),
 * checking that the tensors, origins and grid agree with the shape (a mismatch is DATA_LOSS: the message
 * cannot be trusted).
 */
export function decodeTileBatch(bytes: Uint8Array): FeedTileBatch {
  const { image, mask, rest } = splitTensorFields(bytes, TILE_TENSOR_FIELDS, 'tile batch');
  const header = TileBatch.decode(rest);
  const dtype = tensorDType(header.dtype);
  const [b, t0, t1, t2, ...extra] = header.shape;
  if (b === undefined || t0 === undefined || t1 === undefined || t2 === undefined || extra.length > 0) {
    throw dataLoss(`tile batch shape is [${header.shape.join(', ')}]; expected [B, t0, t1, t2]`);
  }
  const values = dtype === 'float32' ? float32View(image) : image;
  const voxels = b * t0 * t1 * t2;
  if (values.length !== voxels) {
    throw dataLoss(
      `tile image holds ${values.length} ${dtype} values; shape [${header.shape}] needs ${voxels}`,
    );
  }
  if (mask.length !== 0 && mask.length !== voxels) {
    throw dataLoss(`tile mask holds ${mask.length} bytes; shape [${header.shape}] needs ${voxels}`);
  }
  if (header.origins.length !== 3 * b) {
    throw dataLoss(`tile batch has ${header.origins.length} origin values for ${b} tiles`);
  }
  const volumeShape = triple(header.volumeShape, 'volume_shape');
  const grid = triple(header.grid, 'grid');
  const tilesInSeries = safeNumber(header.tilesInSeries, 'tiles_in_series');
  const firstTile = safeNumber(header.firstTile, 'first_tile');
  if (grid[0] * grid[1] * grid[2] !== tilesInSeries || firstTile + b > tilesInSeries) {
    throw dataLoss(
      `tiles ${firstTile}..${firstTile + b - 1} of a grid ${grid.join('x')} with ${tilesInSeries} tiles`,
    );
  }
  return {
    seriesUid: header.seriesUid,
    seriesIndex: header.seriesIndex,
    seriesCount: header.seriesCount,
    volumeShape,
    grid,
    firstTile,
    tilesInSeries,
    shape: [b, t0, t1, t2],
    dtype,
    image: values,
    mask: mask.length === 0 ? null : mask,
    origins: Array.from({ length: b }, (_, i) => triple(header.origins.slice(3 * i, 3 * i + 3), 'origins')),
    spacing: header.spacing,
    wireBytes: bytes.byteLength,
  };
}

function triple(values: readonly number[], field: string): Shape3 {
  const [a, b, c, ...extra] = values;
  if (a === undefined || b === undefined || c === undefined || extra.length > 0) {
    throw dataLoss(`tile batch ${field} is [${values.join(', ')}]; expected 3 values`);
  }
  return [a, b, c];
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw dataLoss(`tile batch ${field} is ${value}, beyond the integers a number holds exactly`);
  }
  return Number(value);
}

function dataLoss(details: string): FeedError {
  return new FeedError('DATA_LOSS', details, `malformed tile batch: ${details}`);
}
