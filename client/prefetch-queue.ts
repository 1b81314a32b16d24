/** What a PrefetchQueue tells its producer. */
export interface PrefetchQueueHooks {
  /** `capacity` items wait: stop producing (pause the gRPC stream). */
  onFull(): void;
  /** The consumer took one from a full queue: produce again (resume the stream). */
  onSpace(): void;
  /** The number of items waiting changed (metrics, tests). */
  onDepth?(depth: number): void;
}

/**
 * A bounded FIFO between a producer that pushes (the gRPC stream) and one consumer that awaits `take()` (the
 * trainer). The queue never blocks a push; it asks the producer to pause once `capacity` items wait, so the
 * next batches arrive while the trainer computes and no more than `capacity` of them wait here.
 *
 * The end of the stream (`end`) or a failure (`fail`) is delivered after the items already queued; `discard`
 * drops them and fails the consumer at once (cancellation).
 */
export class PrefetchQueue<T> {
  private readonly items: T[] = [];
  private waiter: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | null = null;
  private closed: { error: unknown } | 'ended' | null = null;
  private paused = false;

  constructor(
    readonly capacity: number,
    private readonly hooks: PrefetchQueueHooks,
  ) {}

  /** Items waiting for the consumer. */
  get depth(): number {
    return this.items.length;
  }

  /** Whether the producer has been asked to pause and not yet to resume. */
  get full(): boolean {
    return this.paused;
  }

  push(item: T): void {
    if (this.closed !== null) return;
    if (this.waiter !== null) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    this.hooks.onDepth?.(this.items.length);
    if (!this.paused && this.items.length >= this.capacity) {
      this.paused = true;
      this.hooks.onFull();
    }
  }

  /** No more items: the consumer gets `done` once it has taken the queued ones. */
  end(): void {
    this.close('ended');
  }

  /** The consumer gets `error` once it has taken the queued items. */
  fail(error: unknown): void {
    this.close({ error });
  }

  /** Drops the queued items; the consumer gets `error` now. */
  discard(error: unknown): void {
    if (this.items.length > 0) {
      this.items.length = 0;
      this.hooks.onDepth?.(0);
    }
    this.closed = { error };
    this.settleWaiter();
  }

  take(): Promise<IteratorResult<T>> {
    if (this.waiter !== null) return Promise.reject(new Error('PrefetchQueue has one consumer at a time'));
    if (this.items.length > 0) {
      const value = this.items.shift() as T;
      this.hooks.onDepth?.(this.items.length);
      if (this.paused && this.items.length < this.capacity) {
        this.paused = false;
        this.hooks.onSpace();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.closed === 'ended') return Promise.resolve({ value: undefined, done: true });
    if (this.closed !== null) return Promise.reject(this.closed.error);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private close(closed: { error: unknown } | 'ended'): void {
    if (this.closed !== null) return;
    this.closed = closed;
    if (this.items.length === 0) this.settleWaiter();
  }

  private settleWaiter(): void {
    const waiter = this.waiter;
    if (waiter === null || this.closed === null) return;
    this.waiter = null;
    if (this.closed === 'ended') waiter.resolve({ value: undefined, done: true });
    else waiter.reject(this.closed.error);
  }
}
