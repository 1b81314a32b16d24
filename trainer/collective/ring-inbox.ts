import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import type { RingPiece } from '@voxelfeed/proto/collective';

/** Why the inbox gave no piece: silent past the timeout, the predecessor ended its stream, or it broke. */
export class InboxFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'ended' | 'broken',
    detail: string,
    /** Which neighbour: the predecessor (this inbox) or the successor (the sender). */
    readonly side: 'previous' | 'next' = 'previous',
  ) {
    super(detail);
    this.name = 'InboxFailure';
  }
}

type ExchangeCall = ClientReadableStream<RingPiece>;

/**
 * The pieces the ring predecessor sent, in order. The stream is paused while more than `highWaterBytes` wait
 * unread, so HTTP/2 flow control holds the sender back instead of this process buffering without bound.
 */
export class RingInbox {
  private readonly queue: RingPiece[] = [];
  private queuedBytes = 0;
  private waiter: { resolve(piece: RingPiece): void; reject(error: Error): void } | null = null;
  private closedWith: Error | null = null;
  private call: ExchangeCall | null = null;

  /** Resolves once the predecessor has answered the stream (its headers or a first piece). */
  readonly attached: Promise<void>;
  private markAttached: () => void = () => {};

  constructor(private readonly highWaterBytes: number) {
    this.attached = new Promise((resolve) => {
      this.markAttached = resolve;
    });
  }

  get isAttached(): boolean {
    return this.call !== null;
  }

  /** Takes the stream this rank opened to its predecessor. */
  attach(call: ExchangeCall): void {
    this.call = call;
    call.on('metadata', () => this.markAttached());
    call.on('data', (piece: RingPiece) => {
      this.markAttached();
      this.queue.push(piece);
      this.queuedBytes += piece.data.length;
      if (this.queuedBytes > this.highWaterBytes) call.pause();
      this.deliver();
    });
    // A stream that ends with OK: the predecessor closed its group. Any other status: it broke.
    call.on('error', (error: ServiceError) => {
      const failure = new InboxFailure('broken', `its connection closed (${error.details})`);
      this.refusal = error.details;
      this.close(failure);
    });
    call.on('end', () => this.close(new InboxFailure('ended', 'it closed its process group')));
  }

  /** The details of the status the predecessor's stream ended with, if it ended with an error. */
  refusal: string | null = null;

  /** Stops reading (this rank closes). */
  cancel(): void {
    this.call?.cancel();
  }

  /** The next piece; rejects with an InboxFailure, or with the error the inbox was closed with. */
  next(timeoutMs: number): Promise<RingPiece> {
    return new Promise<RingPiece>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new InboxFailure('timeout', `it sent nothing for ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.waiter = {
        resolve: (piece) => {
          clearTimeout(timer);
          resolve(piece);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.deliver();
    });
  }

  /** Rejects the waiting and every later `next` with `error` (pieces already queued are dropped). */
  close(error: Error): void {
    if (this.closedWith === null) this.closedWith = error;
    this.queue.length = 0;
    this.deliver();
  }

  private deliver(): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    const piece = this.queue.shift();
    if (piece !== undefined) {
      this.waiter = null;
      this.queuedBytes -= piece.data.length;
      if (this.queuedBytes <= this.highWaterBytes) this.call?.resume();
      waiter.resolve(piece);
    } else if (this.closedWith !== null) {
      this.waiter = null;
      waiter.reject(this.closedWith);
    }
  }
}
