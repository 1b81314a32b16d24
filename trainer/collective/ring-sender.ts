import { Metadata, type ServerWritableStream } from '@grpc/grpc-js';
import { type RingHello, RingPiece } from '@voxelfeed/proto/collective';
import { InboxFailure } from './ring-inbox.js';

/** The Exchange call of the ring successor, written with buffers encoded here (see `send`). */
export type SuccessorCall = ServerWritableStream<RingHello, Buffer>;

/**
 * The stream to the ring successor (the Exchange call it opened on this rank). Each piece is encoded when it
 * is written, so it carries the buffer's bytes of that moment; a write the stream cannot take waits for
 * 'drain' (at most `timeoutMs`).
 */
export class RingSender {
  private call: SuccessorCall | null = null;
  private brokenWith: Error | null = null;
  private readonly waiters = new Set<(error: Error | null) => void>();
  /** Resolves once the successor has called. */
  readonly attached: Promise<void>;
  private markAttached: () => void = () => {};

  constructor() {
    this.attached = new Promise((resolve) => {
      this.markAttached = resolve;
    });
  }

  get isAttached(): boolean {
    return this.call !== null;
  }

  attach(call: SuccessorCall): void {
    this.call = call;
    call.on('drain', () => this.wake(null));
    const broke = () => this.break(new InboxFailure('broken', 'its connection closed', 'next'));
    call.on('cancelled', broke);
    call.on('error', broke);
    // The headers at once: the successor's start-up waits for them.
    call.sendMetadata(new Metadata());
    this.markAttached();
  }

  /** Every waiting and later send rejects with `error`. */
  break(error: Error): void {
    if (this.brokenWith !== null) return;
    this.brokenWith = error;
    this.wake(error);
  }

  async send(piece: RingPiece, timeoutMs: number): Promise<void> {
    if (this.brokenWith !== null) throw this.brokenWith;
    const call = this.call;
    if (call === null) throw new InboxFailure('broken', 'it never connected', 'next');
    if (call.write(Buffer.from(RingPiece.encode(piece).finish()))) return;
    await new Promise<void>((resolve, reject) => {
      const done = (error: Error | null) => {
        clearTimeout(timer);
        this.waiters.delete(done);
        if (error === null) resolve();
        else reject(error);
      };
      const timer = setTimeout(
        () => done(new InboxFailure('timeout', `it read nothing for ${timeoutMs / 1000} s`, 'next')),
        timeoutMs,
      );
      this.waiters.add(done);
    });
  }

  /** Ends the stream with OK once everything written is flushed (at most `timeoutMs`). */
  end(timeoutMs: number): Promise<void> {
    const call = this.call;
    if (call === null || this.brokenWith !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      call.once('finish', () => {
        clearTimeout(timer);
        resolve();
      });
      call.end();
    });
  }

  /** Ends the stream at once with an error status (this rank failed). */
  cancel(): void {
    if (this.call?.writable) this.call.emit('error', { code: 14, details: 'the rank stopped' });
  }

  private wake(error: Error | null): void {
    for (const waiter of [...this.waiters]) waiter(error);
  }
}
