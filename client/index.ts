/**
 * The voxelfeed client library: what trainers import. It depends on the generated protocol code, grpc-js and
 * @bufbuild/protobuf only (never on the server, never on tfjs).
 */
export type { RetryEvent, StreamBatchesOptions } from './batch-stream.js';
export { channelOptionsFor, FEED_CHANNEL_OPTIONS, ROUND_ROBIN_SERVICE_CONFIG } from './channel-options.js';
export { createFeedClient, type FeedClient, type FeedDatasetInfo } from './create-feed-client.js';
export { decodeBatch } from './decode-batch.js';
export type { AugmentationView, FeedBatch, SampleInfoView, SampleMode, TensorDType } from './feed-batch.js';
export { DEFAULT_PREFETCH, type FeedClientOptions, MAX_PREFETCH } from './feed-client-options.js';
export { FeedError, type FeedErrorCode, isFeedError } from './feed-error.js';
export type {
  CropInput,
  GetSampleInput,
  SplitPartName,
  StreamBatchesInput,
  StreamTilesInput,
  TrainerStatsInput,
} from './feed-requests.js';
export { decodeTileBatch, type FeedTileBatch } from './feed-tile-batch.js';
export {
  GAUSSIAN_SIGMA_SCALE,
  gaussianProfile,
  importanceMap,
  TILE_WEIGHTINGS,
  type TileWeighting,
} from './importance-map.js';
export { type MergeTilesOptions, mergeTilesInMemory, type TilePrediction } from './merge-tiles-in-memory.js';
export {
  DEFAULT_TRANSPOSE_BUDGET_BYTES,
  NrrdSlabWriter,
  type NrrdSlabWriterOptions,
} from './nrrd-slab-writer.js';
export { type ParsedAddress, parseAddress } from './parse-address.js';
export type { NrrdEncoding } from './prediction-nrrd-header.js';
export { DEFAULT_RECONNECT, type ReconnectPolicy } from './reconnect.js';
export type { Shape3 } from './shape3.js';
export type { SharedMemoryAnswer } from './shm-batch-call.js';
export { DEFAULT_SHARED_MEMORY_DIRECTORY } from './shm-probe.js';
export { type MergedSlab, type SlabSink, TileMerger, type TileMergerOptions } from './tile-merger.js';
export type { StreamTilesOptions, TileRetryEvent } from './tile-stream.js';
