import type { BatchTimings } from './assemble-batch.js';
import type { BatchBuffers, BatchMemory } from './batch-memory.js';
import type { EncodedBatch } from './encoded-batch.js';
import type { StreamObserver } from './stream-observer.js';

/** One message prepared in a buffer of batch memory, and how long its parts took. */
export interface AssembledBatch {
  readonly batch: EncodedBatch;
  readonly timings: BatchTimings;
}

/** How the consumer of a held message gives its buffer back. */
export interface HeldBatch {
  /** Gives the buffer back to batch memory: the message has been sent (gRPC: flushed) or will not be. Once. */
  release(): void;
  /**
   * The buffer may still be referenced where it cannot be followed (a write not reported flushed when its
   * call ended): batch memory counts it until it is collected, and a later `release` hands nothing back.
   */
  abandon(): void;
}

export interface HeldBatchesDeps {
  /** Messages prepared ahead of the one the consumer holds (serve --prefetch-batches). */
  readonly prefetchBatches: number;
  /** Where every message buffer comes from: the server's budget for them (--batch-memory). */
  readonly batchMemory: BatchMemory;
  /** The stream's id, as its log lines name it: the key of `observer.onBatchesHeld`. */
  readonly streamId: string;
  readonly observer?: StreamObserver | undefined;
}

/** What one stream prepares: its jobs in order, and how each becomes a message. */
export interface HeldBatchJobs<Job, Fields> {
  /** The messages to prepare, in the order they are handed out; read only as far as prefetching needs. */
  readonly jobs: Iterator<Job, unknown, undefined>;
  /** Prepares one message, its buffer taken from `buffers` (the rejection is handled when it is awaited). */
  readonly assemble: (job: Job) => Promise<AssembledBatch>;
  /** Samples (crops, tiles) in the job's message, as `observer.onBatch` reports them. */
  readonly samples: (job: Job) => number;
  /** The fields the consumer sees beside `release` and `abandon`. */
  readonly describe: (job: Job, assembled: AssembledBatch) => Fields;
}

interface Prepared<Job> extends AssembledBatch {
  readonly job: Job;
  readonly seconds: number;
  readonly readyAt: number;
}

/**
 * The batch memory one stream holds: the messages being prepared, ready, or handed to the consumer and not yet
 * released, counted for `observer.onBatchesHeld`. Each message's buffer is the consumer's until it releases
 * it, so what a stream holds is bounded however slowly it is consumed.
 */
export class HeldBatches {
  /**
   * Batch memory for this stream's messages. Asked for synchronously as a message starts: the stream holds 1
   * when it is its only one, and then goes before messages prepared ahead by other streams.
   */
  readonly buffers: BatchBuffers;
  private held = 0;

  constructor(private readonly deps: HeldBatchesDeps) {
    this.buffers = {
      acquire: (bytes, signal) => deps.batchMemory.acquire(bytes, signal, this.held === 1),
      release: (buffer) => deps.batchMemory.release(buffer),
    };
  }

  /**
   * The messages of `work.jobs` in order, as they become ready: up to `prefetchBatches` are prepared ahead of
   * the one the consumer holds. When `signal` aborts all work stops, messages prepared ahead go back to batch
   * memory as they settle, and the iteration throws the signal's reason. Ending the iteration early (`break`,
   * `return`) or a message that fails does the same, without the signal's reason.
   */
  async *prefetch<Job, Fields>(
    signal: AbortSignal,
    work: HeldBatchJobs<Job, Fields>,
  ): AsyncGenerator<Fields & HeldBatch, void, undefined> {
    const ahead: Promise<Prepared<Job>>[] = [];
    try {
      let planned = false;
      for (;;) {
        while (!planned && ahead.length <= this.deps.prefetchBatches) {
          const next = work.jobs.next();
          if (next.done) planned = true;
          else ahead.push(this.prepare(work, next.value));
        }
        const pending = ahead.shift();
        if (pending === undefined) return;
        const ready = await pending;
        if (signal.aborted) {
          this.buffers.release(ready.batch.backing);
          throw signal.reason;
        }
        this.deps.observer?.onBatch?.({
          bytes: ready.batch.bytes.byteLength,
          samples: work.samples(ready.job),
          timings: ready.timings,
          batchSeconds: ready.seconds,
          backpressureSeconds: (performance.now() - ready.readyAt) / 1000,
        });
        let released = false;
        yield {
          ...work.describe(ready.job, ready),
          release: () => {
            if (released) return;
            released = true;
            this.buffers.release(ready.batch.backing);
            this.holding(-1);
          },
          abandon: () => this.deps.batchMemory.abandon(ready.batch.backing),
        };
      }
    } finally {
      // Messages prepared ahead and never handed out go back as soon as they settle.
      for (const pending of ahead.splice(0)) {
        pending.then(
          (unsent) => this.buffers.release(unsent.batch.backing),
          () => {},
        );
      }
    }
  }

  private prepare<Job, Fields>(work: HeldBatchJobs<Job, Fields>, job: Job): Promise<Prepared<Job>> {
    const begun = performance.now();
    this.holding(1);
    const pending = work.assemble(job).then((assembled) => ({
      ...assembled,
      job,
      seconds: (performance.now() - begun) / 1000,
      readyAt: performance.now(),
    }));
    // A message prepared ahead may fail after the stream has ended; its error is handled when awaited.
    pending.catch(() => {});
    return pending;
  }

  private holding(change: 1 | -1): void {
    this.held += change;
    this.deps.observer?.onBatchesHeld?.(this.deps.streamId, this.held);
  }
}
