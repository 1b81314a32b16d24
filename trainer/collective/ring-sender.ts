import type { ClientWritableStream } from '@grpc/grpc-js';
import { RingMessage } from '@voxelfeed/proto/collective';
import { InboxFailure } from './ring-inbox.js';

/**
 * The stream to the ring successor. Each message is encoded when it is written, so it carries the buffer's
 * bytes of that moment; a write the stream cannot take waits for 'drain' (at most `timeoutMs`).
 */
export class RingSender {
  private brokenWith: Error | null = null;
  private readonly waiters = new Set<(error: Error) => void>();

  constructor(private readonly call: ClientWritableStream<Buffer>) {}

  /** Called once the call ends with an error: every waiting and later send rejects with `error`. */
  break(error: Error): void {
    if (this.brokenWith !== null) return;
    this.brokenWith = error;
    for (const waiter of this.waiters) waiter(error);
    this.waiters.clear();
  }

  async send(message: RingMessage, timeoutMs: number): Promise<void> {
    if (this.brokenWith !== null) throw this.brokenWith;
    const bytes = Buffer.from(RingMessage.encode(message).finish());
    if (this.call.write(bytes)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error: Error | null) => {
        clearTimeout(timer);
        this.call.off('drain', onDrain);
        this.waiters.delete(done);
        if (error === null) resolve();
        else reject(error);
      };
      const onDrain = () => done(null);
      const timer = setTimeout(
        () => done(new InboxFailure('timeout', `it read nothing for ${timeoutMs / 1000} s`, 'next')),
        timeoutMs,
      );
      this.call.on('drain', onDrain);
      this.waiters.add(done);
    });
  }

  /** Ends the stream; resolves once the successor has read everything (or the stream broke). */
  end(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(done);
      this.endedCallbacks.push(done);
      if (this.brokenWith !== null) done();
      else this.call.end();
    });
  }

  /** Called when the successor answered RingDone. */
  ended(): void {
    for (const callback of this.endedCallbacks) callback();
  }

  private readonly endedCallbacks: (() => void)[] = [];

  cancel(): void {
    this.call.cancel();
  }
}
