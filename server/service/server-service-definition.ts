import type { ServiceDefinition } from '@grpc/grpc-js';
import {
  GetDatasetInfoRequest,
  GetSampleRequest,
  protobufPackage,
  ReleaseSharedBatchesRequest,
  StreamBatchesRequest,
  StreamTilesRequest,
  TrainerStats,
  VoxelFeedService,
} from '@voxelfeed/proto';
import { GRPC_FRAME_HEADER_BYTES } from '../batches/encoded-batch.js';
import { decodeOrMark } from './undecodable-request.js';

/**
 * The generated `VoxelFeed` service definition, except that:
 * - the server hands batches to gRPC already encoded (see encoded-batch.ts), so their serialiser passes the
 *   bytes through. StreamBatches, StreamTiles and GetSample write them with their gRPC frame header too, which
 *   pre-framed-messages.ts sends as it is; their serialiser (used only where that interceptor cannot act)
 *   strips the header. Clients
 *   keep using the generated definition and decode with `Batch.decode`;
 * - a request that does not decode becomes an `UndecodableRequest`, which the interceptor of
 *   undecodable-request.ts refuses with INVALID_ARGUMENT (a throwing deserializer would give INTERNAL).
 */
export const serverVoxelFeedService = {
  ...VoxelFeedService,
  getDatasetInfo: {
    ...VoxelFeedService.getDatasetInfo,
    requestDeserialize: decodeOrMark(`${protobufPackage}.GetDatasetInfoRequest`, (bytes) =>
      GetDatasetInfoRequest.decode(bytes),
    ),
  },
  streamBatches: {
    ...VoxelFeedService.streamBatches,
    requestDeserialize: decodeOrMark(`${protobufPackage}.StreamBatchesRequest`, (bytes) =>
      StreamBatchesRequest.decode(bytes),
    ),
    responseSerialize: (framed: Buffer): Buffer => framed.subarray(GRPC_FRAME_HEADER_BYTES),
  },
  getSample: {
    ...VoxelFeedService.getSample,
    requestDeserialize: decodeOrMark(`${protobufPackage}.GetSampleRequest`, (bytes) =>
      GetSampleRequest.decode(bytes),
    ),
    responseSerialize: (framed: Buffer): Buffer => framed.subarray(GRPC_FRAME_HEADER_BYTES),
  },
  streamTiles: {
    ...VoxelFeedService.streamTiles,
    requestDeserialize: decodeOrMark(`${protobufPackage}.StreamTilesRequest`, (bytes) =>
      StreamTilesRequest.decode(bytes),
    ),
    responseSerialize: (framed: Buffer): Buffer => framed.subarray(GRPC_FRAME_HEADER_BYTES),
  },
  reportTrainerStats: {
    ...VoxelFeedService.reportTrainerStats,
    requestDeserialize: decodeOrMark(`${protobufPackage}.TrainerStats`, (bytes) =>
      TrainerStats.decode(bytes),
    ),
  },
  releaseSharedBatches: {
    ...VoxelFeedService.releaseSharedBatches,
    requestDeserialize: decodeOrMark(`${protobufPackage}.ReleaseSharedBatchesRequest`, (bytes) =>
      ReleaseSharedBatchesRequest.decode(bytes),
    ),
  },
} as const satisfies ServiceDefinition;
