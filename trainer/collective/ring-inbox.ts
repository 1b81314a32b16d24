import type { ServerReadableStream } from '@grpc/grpc-js';
import type { RingDone, RingMessage, RingPiece } from '@voxelfeed/proto/collective';

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

type ExchangeCall = ServerReadableStream<RingMessage, RingDone>;

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

  /** Resolves once the predecessor's stream is attached. */
  readonly attached: Promise<void>;
  private markAttached: () => void = () => {};

  /** `onBroken`: the predecessor's stream broke (not ended by its close()). */
  constructor(
    private readonly highWaterBytes: number,
    private readonly onBroken: (failure: InboxFailure) => void,
  ) {
    this.attached = new Promise((resolve) => {
      this.markAttached = resolve;
    });
  }

  get isAttached(): boolean {
    return this.call !== null;
  }

  /** Takes the predecessor's stream (after its hello); `done` answers its end with RingDone. */
  attach(call: ExchangeCall, done: () => void): void {
    this.call = call;
    this.markAttached();
    call.on('data', (message: RingMessage) => {
      if (message.piece === undefined) {
        this.close(new InboxFailure('broken', 'it sent a second hello in the middle of the ring stream'));
        return;
      }
      this.queue.push(message.piece);
      this.queuedBytes += message.piece.data.length;
      if (this.queuedBytes > this.highWaterBytes) call.pause();
      this.deliver();
    });
    call.on('end', () => {
      this.close(new InboxFailure('ended', 'it closed its process group'));
      done();
    });
    const broke = (failure: InboxFailure) => {
      this.close(failure);
      this.onBroken(failure);
    };
    call.on('error', (error: Error) =>
      broke(new InboxFailure('broken', `its connection closed (${error.message})`)),
    );
    call.on('cancelled', () => broke(new InboxFailure('broken', 'its connection closed')));
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
