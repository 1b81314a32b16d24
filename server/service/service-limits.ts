/** The limits the gRPC service enforces on every request and connection; filled from the server's config. */
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
  /**
   * Bytes all streams' encoded batches hold at once (prepared, waiting, or with gRPC), with buffers kept for
   * reuse (batch-memory.ts). At least `maxBatchBytes`, so any batch allowed fits.
   */
  readonly batchMemoryBytes: number;
  /** Streams (StreamBatches and StreamTiles calls together) open at once, over all clients. */
  readonly maxStreams: number;
  /** Streams open at once from one client host (its IP address, whatever the port). */
  readonly maxStreamsPerPeer: number;
  /** Interval of the server's keepalive pings on every connection; 0: none. */
  readonly keepaliveMs: number;
  /** A connection whose keepalive ping is not answered within this is closed (its streams end). */
  readonly keepaliveTimeoutMs: number;
  /** A connection without an open call for this long is closed (GOAWAY; clients reconnect); 0: never. */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_SERVICE_LIMITS: ServiceLimits = {
  maxCropVoxels: 128 * 128 * 128,
  maxBatchBytes: 64 * 1024 * 1024,
  maxBatchSize: 4096,
  maxWorldSize: 65_536,
  prefetchBatches: 2,
  maxUnflushedBatches: 2,
  batchMemoryBytes: 256 * 1024 * 1024,
  maxStreams: 256,
  maxStreamsPerPeer: 32,
  keepaliveMs: 60_000,
  keepaliveTimeoutMs: 20_000,
  idleTimeoutMs: 600_000,
};
