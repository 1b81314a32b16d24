/** The limits the gRPC service enforces on every request; filled from the server's config. */
export interface ServiceLimits {
  /** Largest crop, in voxels per sample. */
  readonly maxCropVoxels: number;
  /** Largest encoded batch (image + mask tensors), in bytes. */
  readonly maxBatchBytes: number;
  readonly maxBatchSize: number;
  readonly maxWorldSize: number;
  /** Batches a stream prepares ahead of the one being sent. */
  readonly prefetchBatches: number;
  /** Batches handed to gRPC but not yet flushed to the connection, per stream. */
  readonly maxUnflushedBatches: number;
}

export const DEFAULT_SERVICE_LIMITS: ServiceLimits = {
  maxCropVoxels: 128 * 128 * 128,
  maxBatchBytes: 64 * 1024 * 1024,
  maxBatchSize: 4096,
  maxWorldSize: 65_536,
  prefetchBatches: 2,
  maxUnflushedBatches: 2,
};
