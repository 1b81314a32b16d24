import { DEFAULT_CONCURRENT_LOADS } from '../../server/config/serve-config.js';

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

/**
 * What the server may keep beyond its idle RSS and its cache once traffic has stopped and its batch memory has
 * been given back (5 s without traffic): a V8 heap grown by the traffic, and what glibc keeps of the small
 * blocks it served from its heap (volumes being decoded, sample info). Measured 20-30 MiB after 16 streams of
 * 64-crop batches.
 */
export const SETTLED_ALLOWANCE_BYTES = 64 * MIB;

export interface SoakAllowance {
  readonly workingBytes: number;
  /**
   * Volumes being read and decoded (at most `--max-loads` at once) and cut: the cache's byte bound covers only
   * the volumes it keeps, and a batch keeps no volume once its crops are cut.
   */
  readonly loadsInFlightBytes: number;
  /** Encoded batches being prepared, waiting, or handed to gRPC: the server's --batch-memory, whatever the streams. */
  readonly batchBufferBytes: number;
  readonly totalBytes: number;
}

/**
 * The memory a server may hold beyond idle + cache while streaming, by its own limits: at most `--max-loads`
 * volumes are read and decoded at once, and all streams' encoded batches together hold at most
 * `--batch-memory` (gRPC sends those buffers themselves, without a copy), however many streams there are
 * and however large their batches.
 */
export function soakAllowance(options: {
  /** The server's --batch-memory (voxelfeed_batch_memory_capacity_bytes). */
  readonly batchMemoryBytes: number;
  /** Voxels of the largest series. */
  readonly seriesVoxels: number;
}): SoakAllowance {
  const loadsInFlightBytes = DEFAULT_CONCURRENT_LOADS * options.seriesVoxels * LOAD_BYTES_PER_VOXEL;
  return {
    workingBytes: WORKING_ALLOWANCE_BYTES,
    loadsInFlightBytes,
    batchBufferBytes: options.batchMemoryBytes,
    totalBytes: WORKING_ALLOWANCE_BYTES + loadsInFlightBytes + options.batchMemoryBytes,
  };
}
