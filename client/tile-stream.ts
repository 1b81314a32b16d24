import type { StreamTilesRequest } from '@voxelfeed/proto';
import { FeedError } from './feed-error.js';
import type { FeedTileBatch } from './feed-tile-batch.js';
import { type ResumableCall, type ResumableStreamDeps, resumableStream } from './resumable-stream.js';

export interface StreamTilesOptions {
  /** Stops the stream: the call is cancelled and the iterator throws `signal.reason`. */
  signal?: AbortSignal;
  /** Called whenever the number of messages waiting in the prefetch queue changes (metrics, tests). */
  onQueueDepth?: (depth: number) => void;
  /** Called before each retry after a connection failure (logs, metrics). */
  onRetry?: (event: TileRetryEvent) => void;
}

export interface TileRetryEvent {
  /** Failed calls in a row so far, counting from the last call that delivered tiles (1 after a drop). */
  readonly failures: number;
  /** The wait before the next call. */
  readonly delayMs: number;
  /** Where the next call starts: the position in the request's list of series, and the tile number. */
  readonly resumeAt: { readonly series: number; readonly tile: number };
  /** Why the last call failed. */
  readonly error: FeedError;
}

/**
 * The tiles of one StreamTiles request, as an async iterable (each iteration streams anew), prefetched and
 * resumed after connection failures exactly as the batch stream is (same policy, same texts): the next call
 * starts at the tile after the last one received (`start_series`, `start_tile`), so every tile arrives once
 * and in order. A message that does not follow the last one ends the stream with DATA_LOSS.
 */
export function tileStream(
  deps: ResumableStreamDeps,
  request: StreamTilesRequest,
  options: StreamTilesOptions,
): AsyncIterable<FeedTileBatch> {
  return {
    [Symbol.asyncIterator]: () => resumableStream(deps, tileCalls(request, options), options.signal),
  };
}

function tileCalls(
  request: StreamTilesRequest,
  options: StreamTilesOptions,
): ResumableCall<FeedTileBatch, FeedTileBatch> {
  let series = request.startSeries;
  let tile = Number(request.startTile);
  let received = 0;
  let seriesCount = Number.POSITIVE_INFINITY;
  return {
    method: 'StreamTiles',
    rank: 0,
    open: (client, metadata) =>
      client.streamTiles({ ...request, startSeries: series, startTile: BigInt(tile) }, metadata),
    accept: (message, address) => {
      if (message.seriesIndex !== series || message.firstTile !== tile) {
        const details = `the server sent tile ${message.firstTile} of series ${message.seriesIndex} where tile ${tile} of series ${series} was due`;
        return new FeedError('DATA_LOSS', details, `StreamTiles on ${address}: ${details}`);
      }
      received += 1;
      seriesCount = message.seriesCount;
      tile += message.shape[0];
      if (tile >= message.tilesInSeries) {
        series += 1;
        tile = 0;
      }
      return null;
    },
    accepted: () => received,
    deliver: (tile) => tile,
    finished: () => series >= seriesCount,
    resumePoint: () => `resuming at tile ${tile} of series ${series}`,
    onRetry: (failures, delayMs, error) =>
      options.onRetry?.({ failures, delayMs, resumeAt: { series, tile }, error }),
    ...(options.onQueueDepth ? { onQueueDepth: options.onQueueDepth } : {}),
  };
}
