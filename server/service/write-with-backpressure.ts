import type { ServerWritableStream } from '@grpc/grpc-js';

/**
 * Writes messages to a server stream, keeping at most `maxUnflushed` of them handed to gRPC but not yet
 * flushed to the connection. grpc-js buffers up to 16 messages per stream before `write` returns false;
 * with batches of several MiB that is too much memory for one slow client, so we count flush callbacks
 * ourselves. `grpc-js` never calls a write back after a cancel, so every wait also ends on `signal`.
 */
export class BackpressuredWriter<T> {
  private unflushed = 0;
  private wakeUp: (() => void) | null = null;
  private readonly onAbort = () => this.wake();

  constructor(
    private readonly call: ServerWritableStream<unknown, T>,
    private readonly maxUnflushed: number,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
    call.on('drain', this.onAbort);
  }

  /**
   * Resolves once the message is handed over and the stream has room for the next; false if cancelled.
   * `onFlushed` runs when gRPC is done with the message (never, after a cancel).
   */
  async write(message: T, onFlushed?: () => void): Promise<boolean> {
    if (this.signal.aborted) return false;
    this.unflushed += 1;
    const roomLeft = this.call.write(message, () => {
      this.unflushed -= 1;
      onFlushed?.();
      this.wake();
    });
    while (
      !this.signal.aborted &&
      (this.unflushed >= this.maxUnflushed || (!roomLeft && this.call.writableNeedDrain))
    ) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
    return !this.signal.aborted;
  }

  /** Resolves when every written message has been flushed, or on cancel. */
  async flushed(): Promise<void> {
    while (!this.signal.aborted && this.unflushed > 0) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  dispose(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.call.off('drain', this.onAbort);
    this.wake();
  }

  private wake(): void {
    const resolve = this.wakeUp;
    this.wakeUp = null;
    resolve?.();
  }
}
