import { DType } from '@voxelfeed/proto';
import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { extractCrop } from '../sampling/extract-crop.js';
import { writeFloat32LE } from '../sampling/float-tensor.js';
import { type TileGrid, tileGrid, tileOrigin } from '../sampling/tile-grid.js';
import type { Volume } from '../sampling/types.js';
import { type BatchTimings, loadVolume } from './assemble-batch.js';
import type { BatchBuffers, BatchMemory } from './batch-memory.js';
import { type EncodedBatch, writeEncodedBatch } from './encoded-batch.js';
import { layOutEncodedTileBatch } from './encoded-tile-batch.js';
import type { StreamObserver } from './stream-observer.js';
import type { TileRequest } from './tile-request.js';
import { untilAborted } from './until-aborted.js';

/** A TileBatch ready to send; its buffer belongs to the consumer until it calls `release` or `abandon`. */
export interface ReadyTileBatch {
  /** Position of the series in the request's list. */
  readonly seriesPosition: number;
  readonly firstTile: number;
  readonly tiles: number;
  readonly batch: EncodedBatch;
  /** Gives the buffer back to batch memory: the message has been sent (gRPC: flushed) or will not be. Once. */
  release(): void;
  /** The buffer may still be referenced (a write never reported flushed): counted until collected. */
  abandon(): void;
}

export interface ReadyTilesDeps {
  /** Messages prepared ahead of the one the consumer holds (serve --prefetch-batches). */
  readonly prefetchBatches: number;
  /** Where every message buffer comes from: the server's budget for them (--batch-memory). */
  readonly batchMemory: BatchMemory;
  /** The stream's logger (its fields name the stream). */
  readonly log: Logger;
  /** The stream's id, as its log lines name it: the key of `observer.onBatchesHeld`. */
  readonly streamId: string;
  readonly observer?: StreamObserver | undefined;
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
 * Like streamReadyBatches: up to `prefetchBatches` messages are prepared ahead of the one the consumer holds,
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
  let held = 0;
  const holding = (change: 1 | -1) => {
    held += change;
    deps.observer?.onBatchesHeld?.(deps.streamId, held);
  };
  const buffers: BatchBuffers = {
    acquire: (bytes, acquireSignal) => deps.batchMemory.acquire(bytes, acquireSignal, held === 1),
    release: (buffer) => deps.batchMemory.release(buffer),
  };
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
  const prepare = (message: TileMessage): Promise<PreparedTiles> => {
    const begun = performance.now();
    holding(1);
    const pending = assembleTiles(request, message, volumeOf(message), signal, buffers).then((result) => ({
      ...result,
      message,
      seconds: (performance.now() - begun) / 1000,
      readyAt: performance.now(),
    }));
    pending.catch(() => {});
    return pending;
  };
  const ahead: Promise<PreparedTiles>[] = [];
  try {
    const messages = tileMessages(request);
    let planned = false;
    for (;;) {
      while (!planned && ahead.length <= deps.prefetchBatches) {
        const next = messages.next();
        if (next.done) planned = true;
        else ahead.push(prepare(next.value));
      }
      const pending = ahead.shift();
      if (pending === undefined) return;
      const ready = await pending;
      if (signal.aborted) {
        buffers.release(ready.batch.backing);
        throw signal.reason;
      }
      deps.observer?.onBatch?.({
        bytes: ready.batch.bytes.byteLength,
        samples: ready.message.count,
        timings: ready.timings,
        batchSeconds: ready.seconds,
        backpressureSeconds: (performance.now() - ready.readyAt) / 1000,
      });
      let released = false;
      yield {
        seriesPosition: ready.message.position,
        firstTile: ready.message.firstTile,
        tiles: ready.message.count,
        batch: ready.batch,
        release: () => {
          if (released) return;
          released = true;
          buffers.release(ready.batch.backing);
          holding(-1);
        },
        abandon: () => deps.batchMemory.abandon(ready.batch.backing),
      };
    }
  } finally {
    for (const pending of ahead.splice(0)) {
      pending.then(
        (unsent) => buffers.release(unsent.batch.backing),
        () => {},
      );
    }
  }
}

interface PreparedTiles {
  readonly message: TileMessage;
  readonly batch: EncodedBatch;
  readonly timings: BatchTimings;
  readonly seconds: number;
  readonly readyAt: number;
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
 * float32 in place as assembleBatch does.
 */
async function assembleTiles(
  request: TileRequest,
  message: TileMessage,
  volume: Promise<Volume>,
  signal: AbortSignal,
  buffers: BatchBuffers,
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
    // float32: bytes cut into the last quarter of the image field, then widened from the front (assembleBatch).
    const voxelTarget = request.dtype === 'float32' ? batch.image.subarray(3 * count * voxels) : batch.image;
    const maskTarget = request.includeMask ? batch.mask : null;
    origins.forEach((origin, slot) => {
      extractCrop(
        source,
        { origin, size: request.tileSize, padValue: request.padValue },
        { image: voxelTarget, mask: maskTarget, offset: slot * voxels },
      );
    });
    if (voxelTarget !== batch.image) writeFloat32LE(voxelTarget, batch.image);
    const crop = (performance.now() - cropStarted) / 1000;
    return { batch, timings: { waitVolumes, crop, encode: encodeSeconds } };
  } catch (error) {
    buffers.release(backing);
    throw error;
  }
}
