import type { ServiceDefinition } from '@grpc/grpc-js';
import { VoxelFeedService } from '../../gen/voxelfeed/v1/voxelfeed.js';

/**
 * The generated `VoxelFeed` service definition, except that the server hands batches to gRPC already
 * encoded (see encoded-batch.ts), so their serialiser passes the bytes through. Clients keep using the
 * generated definition and decode with `Batch.decode`.
 */
export const serverVoxelFeedService = {
  ...VoxelFeedService,
  streamBatches: { ...VoxelFeedService.streamBatches, responseSerialize: (bytes: Buffer): Buffer => bytes },
  getSample: { ...VoxelFeedService.getSample, responseSerialize: (bytes: Buffer): Buffer => bytes },
} as const satisfies ServiceDefinition;
