import { DType } from '@voxelfeed/proto';
import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { extractCrop } from '../sampling/extract-crop.js';
import { writeFloat32LE } from '../sampling/float-tensor.js';
import { type TileGrid, tileGrid, tileOrigin } from '../sampling/tile-grid.js';
import type { Volume } from '../sampling/types.js';
import { floatCropScratch } from '../workers/cut-series-crops.js';
import { type BatchTimings, loadVolume } from './assemble-batch.js';
import type { BatchBuffers } from './batch-memory.js';
import { type EncodedBatch, writeEncodedBatch } from './encoded-batch.js';
import { layOutEncodedTileBatch } from './encoded-tile-batch.js';
import { type HeldBatch, HeldBatches, type HeldBatchesDeps } from './held-batches.js';
import type { TileRequest } from './tile-request.js';
import { untilAborted } from './until-aborted.js';

/** A TileBatch ready to send; its buffer belongs to the consumer until it calls `release` or `abandon`. */
export interface ReadyTileBatch extends HeldBatch {
  /** Position of the series in the request's list. */
  readonly seriesPosition: number;
  readonly firstTile: number;
  readonly tiles: number;
  readonly batch: EncodedBatch;
}

export interface ReadyTilesDeps extends HeldBatchesDeps {
  /** The stream's logger (its fields name the stream). */
  readonly log: Logger;
  /**
   * Where the client's gRPC library puts each message in its receive buffer (call-landing.ts), so a float32
   * image is aligned there; absent: 0 (grpcio and most libraries).
   */
  readonly imageLanding?: number | undefined;
}

/** One message to prepare: `count` consecutive tiles of the series at `position`. */
interface TileMessage {
  readonly position: number;
  readonly grid: TileGrid;
  readonly firstTile: number;
  readonly count: number;
}

/**
 * The tiles of every series of `request`, series after series from (`startSeries`, `startTile`), as encoded
 * TileBatch messages of up to `batchSize` tiles (never two series in one), in tile order (axis 0 slowest).
 * Like streamReadyBatches (HeldBatches): up to `prefetchBatches` messages are prepared ahead of the one the consumer holds,
 * each in a buffer of batch memory that is the consumer's until it releases it; a cancel (`signal`) stops
 * all work, gives the buffers of messages prepared ahead back and throws the signal's reason.
 *
 * Each series' volume is asked of the cache once per stream, when its first message is prepared, and
 * referenced only until its last message is: a stream holds at most the volume it is cutting and, across a
 * series boundary, the next one. A series that cannot be read ends the stream with DATA_LOSS naming it.
 */
export async function* streamReadyTiles(
  request: TileRequest,
  signal: AbortSignal,
  deps: ReadyTilesDeps,
): AsyncGenerator<ReadyTileBatch, void, undefined> {
  const held = new HeldBatches(deps);
  const volumes = new Map<number, Promise<Volume>>();
  const volumeOf = (message: TileMessage): Promise<Volume> => {
    let volume = volumes.get(message.position);
    if (volume === undefined) {
      volume = loadChecked(request, message);
      // Its error is handled by the messages that await it.
      volume.catch(() => {});
      volumes.set(message.position, volume);
    }
    // The series' last message holds the only reference left, so the volume can go once it is cut.
    if (message.firstTile + message.count >= message.grid.tiles) volumes.delete(message.position);
    return volume;
  };
  yield* held.prefetch(signal, {
    jobs: tileMessages(request),
    assemble: (message) =>
      assembleTiles(request, message, volumeOf(message), signal, held.buffers, deps.imageLanding),
    samples: (message) => message.count,
    describe: (message, { batch }) => ({
      seriesPosition: message.position,
      firstTile: message.firstTile,
      tiles: message.count,
      batch,
    }),
  });
}

/** The messages of the request in order: each series' grid cut into runs of `batchSize` tiles. */
function* tileMessages(request: TileRequest): Generator<TileMessage, void, undefined> {
  const catalog = request.dataset.catalog.series;
  for (let position = request.startSeries; position < request.series.length; position++) {
    const series = catalog[request.series[position]!]!;
    const grid = tileGrid(series.shape, request.tileSize, request.overlap);
    const first = position === request.startSeries ? request.startTile : 0;
    for (let tile = first; tile < grid.tiles; tile += request.batchSize) {
      yield { position, grid, firstTile: tile, count: Math.min(request.batchSize, grid.tiles - tile) };
    }
  }
}

/** The series' volume, checked against the shape its grid was computed for (the catalog's). */
async function loadChecked(request: TileRequest, message: TileMessage): Promise<Volume> {
  const index = request.series[message.position]!;
  const volume = await loadVolume(request.dataset, index);
  const expected = message.grid.volumeShape;
  if (volume.shape.some((size, axis) => size !== expected[axis])) {
    const uid = request.dataset.catalog.series[index]!.uid;
    throw new VoxelfeedError(
      'DATA_LOSS',
      `series ${uid} decoded to ${volume.shape.join('x')} voxels where its header said ${expected.join('x')}; re-index the data set (voxelfeed index)`,
    );
  }
  return volume;
}

/**
 * One TileBatch: takes a buffer from batch memory, writes the message's fields, waits for the volume and cuts
 * each tile at its origin with the crop code (padding past an edge the volume does not cover), widening to
 * float32 as assembleBatch does.
 */
async function assembleTiles(
  request: TileRequest,
  message: TileMessage,
  volume: Promise<Volume>,
  signal: AbortSignal,
  buffers: BatchBuffers,
  imageLanding: number | undefined,
): Promise<{ batch: EncodedBatch; timings: BatchTimings }> {
  const { grid, count } = message;
  const series = request.dataset.catalog.series[request.series[message.position]!]!;
  const origins = Array.from({ length: count }, (_, b) => tileOrigin(grid, message.firstTile + b));
  const voxels = request.tileSize[0] * request.tileSize[1] * request.tileSize[2];
  const imageBytes = count * voxels * (request.dtype === 'float32' ? 4 : 1);
  const maskBytes = request.includeMask ? count * voxels : 0;
  const encodeStarted = performance.now();
  const layout = layOutEncodedTileBatch(
    {
      seriesUid: series.uid,
      seriesIndex: message.position,
      seriesCount: request.series.length,
      volumeShape: [...grid.volumeShape],
      grid: [...grid.counts],
      firstTile: BigInt(message.firstTile),
      tilesInSeries: BigInt(grid.tiles),
      shape: [count, ...request.tileSize],
      dtype: request.dtype === 'float32' ? DType.DTYPE_FLOAT32 : DType.DTYPE_UINT8,
      origins: origins.flat(),
      spacing: series.spacing ? [...series.spacing] : [],
    },
    imageBytes,
    maskBytes,
    imageLanding,
  );
  let encodeSeconds = (performance.now() - encodeStarted) / 1000;
  const backing = await buffers.acquire(layout.backingBytes, signal);
  try {
    const written = performance.now();
    const batch = writeEncodedBatch(layout, backing);
    encodeSeconds += (performance.now() - written) / 1000;
    const waitStarted = performance.now();
    const source = await untilAborted(volume, signal);
    const waitVolumes = (performance.now() - waitStarted) / 1000;
    const cropStarted = performance.now();
    // float32: each tile's bytes cut into this thread's scratch, then widened into its slot, as cutSeriesCrops does.
    const cropBytes = request.dtype === 'float32' ? floatCropScratch(voxels) : null;
    const maskTarget = request.includeMask ? batch.mask : null;
    origins.forEach((origin, slot) => {
      const offset = slot * voxels;
      extractCrop(
        source,
        { origin, size: request.tileSize, padValue: request.padValue },
        cropBytes === null
          ? { image: batch.image, mask: maskTarget, offset }
          : { image: cropBytes, imageOffset: 0, mask: maskTarget, offset },
      );
      if (cropBytes !== null)
        writeFloat32LE(cropBytes, batch.image.subarray(4 * offset, 4 * (offset + voxels)));
    });
    const crop = (performance.now() - cropStarted) / 1000;
    return { batch, timings: { waitVolumes, crop, encode: encodeSeconds } };
  } catch (error) {
    buffers.release(backing);
    throw error;
  }
}
