import type { StreamObserver } from '../../server/batches/stream-observer.js';

interface Waiter {
  readonly count: number;
  readonly resolve: () => void;
}

/** Resolves and drops the waiters whose count `reached` has come to; returns those still waiting. */
function release(waiters: readonly Waiter[], reached: number): Waiter[] {
  for (const waiter of waiters) if (waiter.count <= reached) waiter.resolve();
  return waiters.filter((waiter) => waiter.count > reached);
}

/**
 * Records what a server does with its streams (starts, batches sent, how each ended) and lets a test await
 * those events instead of polling for them.
 */
export class RecordingObserver implements StreamObserver {
  /** The status name each stream ended with, in order of ending. */
  readonly codes: string[] = [];
  starts = 0;
  /** Batches handed to gRPC, over all streams; a test may reset it to count from a point on. */
  batches = 0;
  private nextEnds: Array<(code: string) => void> = [];
  private endWaiters: Waiter[] = [];
  private batchWaiters: Waiter[] = [];

  onStreamStart(): void {
    this.starts += 1;
  }

  onBatch(): void {
    this.batches += 1;
    this.batchWaiters = release(this.batchWaiters, this.batches);
  }

  onStreamEnd(code: string): void {
    this.codes.push(code);
    for (const resolve of this.nextEnds.splice(0)) resolve(code);
    this.endWaiters = release(this.endWaiters, this.codes.length);
  }

  /** The code of the next stream to end after this call. */
  nextEnd(): Promise<string> {
    return new Promise((resolve) => this.nextEnds.push(resolve));
  }

  /** Resolves once `count` streams have ended since the server started. */
  endsReached(count: number): Promise<void> {
    if (this.codes.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push({ count, resolve }));
  }

  /** Resolves once `batches` has reached `count`. */
  batchesReached(count: number): Promise<void> {
    if (this.batches >= count) return Promise.resolve();
    return new Promise((resolve) => this.batchWaiters.push({ count, resolve }));
  }
}
