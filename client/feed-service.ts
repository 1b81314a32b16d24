import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientOptions,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  type Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import {
  type DatasetInfo,
  type GetDatasetInfoRequest,
  type GetSampleRequest,
  type ReleaseSharedBatchesRequest,
  type ReleaseSharedBatchesResponse,
  type ReportTrainerStatsResponse,
  type StreamBatchesRequest,
  type StreamTilesRequest,
  type TrainerStats,
  VoxelFeedService,
} from '@voxelfeed/proto';
import { decodeBatch } from './decode-batch.js';
import type { FeedBatch } from './feed-batch.js';
import { decodeTileBatch, type FeedTileBatch } from './feed-tile-batch.js';

/**
 * The generated `VoxelFeedService` with our zero-copy decoders for the methods that return tensors: batches
 * and tiles arrive as FeedBatch / FeedTileBatch views of the received messages instead of ts-proto copies.
 */
export const feedServiceDefinition = {
  ...VoxelFeedService,
  streamBatches: { ...VoxelFeedService.streamBatches, responseDeserialize: decodeBatch },
  getSample: { ...VoxelFeedService.getSample, responseDeserialize: decodeBatch },
  streamTiles: { ...VoxelFeedService.streamTiles, responseDeserialize: decodeTileBatch },
} as const;

type Callback<T> = (error: ServiceError | null, response?: T) => void;

/** A grpc-js client of `voxelfeed.v1.VoxelFeed` whose tensor-carrying methods answer FeedBatch. */
export interface FeedGrpcClient extends Client {
  getDatasetInfo(
    request: GetDatasetInfoRequest,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: Callback<DatasetInfo>,
  ): ClientUnaryCall;
  streamBatches(
    request: StreamBatchesRequest,
    metadata: Metadata,
    options?: Partial<CallOptions>,
  ): ClientReadableStream<FeedBatch>;
  getSample(
    request: GetSampleRequest,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: Callback<FeedBatch>,
  ): ClientUnaryCall;
  streamTiles(
    request: StreamTilesRequest,
    metadata: Metadata,
    options?: Partial<CallOptions>,
  ): ClientReadableStream<FeedTileBatch>;
  releaseSharedBatches(
    metadata: Metadata,
    callback: Callback<ReleaseSharedBatchesResponse>,
  ): ClientWritableStream<ReleaseSharedBatchesRequest>;
  reportTrainerStats(
    request: TrainerStats,
    metadata: Metadata,
    options: Partial<CallOptions>,
    callback: Callback<ReportTrainerStatsResponse>,
  ): ClientUnaryCall;
}

export const FeedGrpcClient = makeGenericClientConstructor(
  feedServiceDefinition,
  'voxelfeed.v1.VoxelFeed',
) as unknown as {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): FeedGrpcClient;
};
