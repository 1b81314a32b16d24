import type { DatasetInfo } from '@voxelfeed/proto';
import { batchStream, type StreamBatchesOptions } from './batch-stream.js';
import type { FeedBatch } from './feed-batch.js';
import { FeedChannels } from './feed-channels.js';
import { type FeedClientOptions, resolveFeedClientOptions } from './feed-client-options.js';
import { FeedError } from './feed-error.js';
import {
  type GetSampleInput,
  type StreamBatchesInput,
  type StreamTilesInput,
  type TrainerStatsInput,
  toGetSampleRequest,
  toStreamBatchesRequest,
  toStreamTilesRequest,
  toTrainerStats,
} from './feed-requests.js';
import type { FeedTileBatch } from './feed-tile-batch.js';
import { type StreamTilesOptions, tileStream } from './tile-stream.js';
import { callUnary } from './unary-call.js';

/** `DatasetInfo` with numbers for its two 64-bit counts. */
export interface FeedDatasetInfo extends Omit<DatasetInfo, 'maxCropVoxels' | 'defaultItemsPerEpoch'> {
  readonly maxCropVoxels: number;
  readonly defaultItemsPerEpoch: number;
}

export interface FeedClient {
  /** The served data set (empty or unset: the server's default). Retried on connection failures. */
  datasetInfo(dataset?: string): Promise<FeedDatasetInfo>;
  /**
   * One rank's batches of one epoch, prefetched, resumed at the next step after a connection failure. Throws
   * FeedError for a refused request (INVALID_ARGUMENT, NOT_FOUND, OUT_OF_RANGE...), a lost volume
   * (DATA_LOSS), or UNAVAILABLE once reconnecting has failed `maxAttempts` times in a row; `signal` makes it
   * throw its reason. Request fields that cannot be encoded throw INVALID_ARGUMENT here, before any call.
   */
  streamBatches(request: StreamBatchesInput, options?: StreamBatchesOptions): AsyncIterable<FeedBatch>;
  /**
   * The tiles of whole series on the server's grid (sliding-window inference), series after series, in tile
   * order, prefetched and resumed at the next tile after a connection failure, with the same errors as
   * streamBatches. Fields that cannot be encoded throw INVALID_ARGUMENT here, before any call.
   */
  streamTiles(request: StreamTilesInput, options?: StreamTilesOptions): AsyncIterable<FeedTileBatch>;
  /** One sample as a batch of one, byte-identical to that index in any stream. Retried like datasetInfo. */
  getSample(request: GetSampleInput): Promise<FeedBatch>;
  /** One attempt, no retry: a lost report is harmless, the next one carries the running totals. */
  reportTrainerStats(stats: TrainerStatsInput): Promise<void>;
  /** Closes the channels; open streams, retries and later calls end with FeedError CANCELLED. */
  close(): void;
}

/**
 * A client of a voxelfeed server (or of several replicas). Nothing connects until the first call. Options are
 * checked here; a bad one throws FeedError INVALID_ARGUMENT naming it.
 */
export function createFeedClient(options: FeedClientOptions): FeedClient {
  const resolved = resolveFeedClientOptions(options);
  const channels = new FeedChannels(resolved);
  const closing = new AbortController();
  const random = Math.random;
  const policy = resolved.reconnect;
  return {
    async datasetInfo(dataset = '') {
      closing.signal.throwIfAborted();
      const info = await callUnary<DatasetInfo>(
        channels,
        'GetDatasetInfo',
        policy,
        random,
        closing.signal,
        (client, metadata, callback) => client.getDatasetInfo({ dataset }, metadata, {}, callback),
      );
      return {
        ...info,
        maxCropVoxels: Number(info.maxCropVoxels),
        defaultItemsPerEpoch: Number(info.defaultItemsPerEpoch),
      };
    },

    streamBatches(request, streamOptions = {}) {
      closing.signal.throwIfAborted();
      const wire = toStreamBatchesRequest(request);
      const signal = streamOptions.signal
        ? AbortSignal.any([streamOptions.signal, closing.signal])
        : closing.signal;
      return batchStream({ channels, prefetch: resolved.prefetch, reconnect: policy, random }, wire, {
        ...streamOptions,
        signal,
      });
    },

    streamTiles(request, streamOptions = {}) {
      closing.signal.throwIfAborted();
      const wire = toStreamTilesRequest(request);
      const signal = streamOptions.signal
        ? AbortSignal.any([streamOptions.signal, closing.signal])
        : closing.signal;
      return tileStream({ channels, prefetch: resolved.prefetch, reconnect: policy, random }, wire, {
        ...streamOptions,
        signal,
      });
    },

    async getSample(request) {
      closing.signal.throwIfAborted();
      const wire = toGetSampleRequest(request);
      return callUnary<FeedBatch>(
        channels,
        'GetSample',
        policy,
        random,
        closing.signal,
        (client, metadata, callback) => client.getSample(wire, metadata, {}, callback),
      );
    },

    async reportTrainerStats(stats) {
      closing.signal.throwIfAborted();
      const wire = toTrainerStats(stats);
      await callUnary(
        channels,
        'ReportTrainerStats',
        null,
        random,
        closing.signal,
        (client, metadata, callback) => client.reportTrainerStats(wire, metadata, {}, callback),
      );
    },

    close() {
      closing.abort(new FeedError('CANCELLED', 'the client was closed', 'the feed client was closed'));
      channels.close();
    },
  };
}
