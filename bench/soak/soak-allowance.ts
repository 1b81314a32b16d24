import { DEFAULT_CONCURRENT_LOADS } from '../../server/config/serve-config.js';
import type { Shape3 } from '../../server/sampling/types.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';

const MIB = 1024 ** 2;

/**
 * What the server needs beyond its idle RSS and its cache while streaming, measured on 2 cores with 4 streams
 * of 4 crops from 2 MiB of cache: RSS rose 60-90 MiB above idle + cache once the loads in flight and batch
 * buffers below are taken out: V8's young generation and heap growth under allocation churn (heap used 16-29
 * MiB), gRPC/HTTP2 frames, and memory the allocator keeps after the decompression threads free it. 128 MiB
 * leaves room for later collections on a busy machine.
 */
export const WORKING_ALLOWANCE_BYTES = 128 * MIB;

/**
 * A volume being loaded holds its compressed file and the decoded image and mask: measured about 3 bytes per
 * voxel with 120-150 loads running at once before loads were limited (external memory / loads, less the cache
 * and batch buffers).
 */
export const LOAD_BYTES_PER_VOXEL = 3;

export interface SoakAllowance {
  readonly workingBytes: number;
  /**
   * Volumes being read and decoded (at most `--max-loads` at once) and cut: the cache's byte bound covers only
   * the volumes it keeps, and a batch keeps no volume once its crops are cut.
   */
  readonly loadsInFlightBytes: number;
  /** Encoded batches being prepared, waiting, or handed to gRPC. */
  readonly batchBufferBytes: number;
  readonly totalBytes: number;
}

/**
 * The memory a server may hold beyond idle + cache for `streams` streams, by the server's own limits: at most
 * `--max-loads` volumes are read and decoded at once; each stream prepares up to `prefetchBatches` batches
 * ahead of the one being sent, and up to `maxUnflushedBatches` more wait in gRPC.
 */
export function soakAllowance(options: {
  readonly streams: number;
  readonly batchSize: number;
  readonly crop: Shape3;
  /** Voxels of the largest series. */
  readonly seriesVoxels: number;
}): SoakAllowance {
  const limits = DEFAULT_SERVICE_LIMITS;
  const batchesPrepared = limits.prefetchBatches + 1;
  const loadsInFlightBytes = DEFAULT_CONCURRENT_LOADS * options.seriesVoxels * LOAD_BYTES_PER_VOXEL;
  // uint8 image + mask per crop.
  const batchBytes = options.batchSize * 2 * options.crop[0] * options.crop[1] * options.crop[2];
  const batchBufferBytes = options.streams * (batchesPrepared + limits.maxUnflushedBatches) * batchBytes;
  return {
    workingBytes: WORKING_ALLOWANCE_BYTES,
    loadsInFlightBytes,
    batchBufferBytes,
    totalBytes: WORKING_ALLOWANCE_BYTES + loadsInFlightBytes + batchBufferBytes,
  };
}
