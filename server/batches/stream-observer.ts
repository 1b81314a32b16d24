import type { BatchTimings } from './assemble-batch.js';

export interface BatchSent {
  readonly bytes: number;
  readonly samples: number;
  readonly timings: BatchTimings;
  /** From starting the batch to having it ready (volumes, crops, encoding). */
  readonly batchSeconds: number;
  /** How long the ready batch waited for the client (earlier batches not yet flushed). */
  readonly backpressureSeconds: number;
}

/** What a batch stream reports as it runs: the pipeline's port to metrics and to tests. */
export interface StreamObserver {
  onStreamStart?(): void;
  /** `code` is the gRPC status name the stream ended with: OK, CANCELLED, INVALID_ARGUMENT, DATA_LOSS... */
  onStreamEnd?(code: string, seconds: number): void;
  onBatch?(sent: BatchSent): void;
  /**
   * The number of batches stream `stream` (the id in its log lines) holds in memory changed: being prepared,
   * ready, or handed to gRPC and not yet flushed. At most `prefetchBatches + maxUnflushedBatches`.
   */
  onBatchesHeld?(stream: string, held: number): void;
}
