import type { ClientReadableStream, Metadata } from '@grpc/grpc-js';
import type { FeedChannels } from './feed-channels.js';
import { type FeedError, isRetryable, toFeedError } from './feed-error.js';
import type { FeedGrpcClient } from './feed-service.js';
import { PrefetchQueue } from './prefetch-queue.js';
import { backoffDelayMs, giveUpError, type ReconnectPolicy, sleep } from './reconnect.js';

export interface ResumableStreamDeps {
  readonly channels: FeedChannels;
  readonly prefetch: number;
  readonly reconnect: ReconnectPolicy;
  /** In [0, 1): the jitter of the reconnect backoff. */
  readonly random: () => number;
}

/**
 * What one streaming method adds to the shared reconnect loop: where to resume, how to check items, and what
 * the consumer gets for each (`Q`: an item as a call delivers it; `T`: as the consumer takes it).
 */
export interface ResumableCall<Q, T> {
  /** `StreamBatches`, `StreamTiles`: for error texts. */
  readonly method: string;
  /** The rank whose replica a call goes to first (rank affinity). */
  readonly rank: number;
  /** A call from the position reached so far. */
  open(client: FeedGrpcClient, metadata: Metadata): ClientReadableStream<Q>;
  /**
   * An item arrived: checks it follows the last one and advances the position; an error ends the call
   * (and the stream: a server that skips is not retried).
   */
  accept(item: Q, address: string): FeedError | null;
  /** The consumer takes `item` (in order, when it asks for it): what it gets. May throw a FeedError. */
  deliver(item: Q): T;
  /** The iteration is over (ended, failed or left): let go of what its calls still hold. */
  dispose?(): void;
  /** Items accepted so far: a call that adds to it resets the count of failed attempts. */
  accepted(): number;
  /** Whether everything asked for has arrived, so a failure after the last item changes nothing. */
  finished(): boolean;
  /** Where the stream would resume, for the give-up text: `resuming at step 12`. */
  resumePoint(): string;
  /** Called before each retry after a connection failure. */
  onRetry?(failures: number, delayMs: number, error: FeedError): void;
  onQueueDepth?(depth: number): void;
}

/**
 * The items of one server-streaming call as an async iterable (each iteration streams anew), resumed after
 * connection failures.
 *
 * A producer moves items from the gRPC stream into a PrefetchQueue of `prefetch` items, pausing the stream
 * while the queue is full, and the consumer takes them in order. When the connection fails (UNAVAILABLE,
 * INTERNAL for a reset stream, or a CANCELLED the client did not ask for), the producer calls again after a
 * jittered backoff from the position `spec` has reached, so the consumer sees every item exactly once and in
 * order, whichever replica answers. It gives up with UNAVAILABLE after `maxAttempts` failed calls in a row (a
 * call that delivered an item starts the count anew). Any other status ends the stream with a FeedError after
 * the items already received. Leaving a `for await` early cancels the call; `signal` makes it throw its reason.
 */
export async function* resumableStream<Q, T>(
  deps: ResumableStreamDeps,
  spec: ResumableCall<Q, T>,
  external: AbortSignal | undefined,
): AsyncGenerator<T, void, undefined> {
  external?.throwIfAborted();
  const stop = new AbortController();
  const onAbort = () => stop.abort(external?.reason);
  external?.addEventListener('abort', onAbort, { once: true });
  const producer = new Producer(deps, spec, stop.signal);
  const produced = producer.run();
  try {
    for (;;) {
      const next = await producer.queue.take();
      if (next.done) return;
      yield spec.deliver(next.value);
    }
  } finally {
    external?.removeEventListener('abort', onAbort);
    stop.abort();
    await produced;
    spec.dispose?.();
  }
}

type CallOutcome = { readonly ok: true } | { readonly ok: false; readonly error: FeedError };

class Producer<Q, T> {
  readonly queue: PrefetchQueue<Q>;
  private call: ClientReadableStream<Q> | null = null;
  /** Resolves the wait of a producer that holds off a new call while the queue is full. */
  private onQueueSpace: (() => void) | null = null;

  constructor(
    private readonly deps: ResumableStreamDeps,
    private readonly spec: ResumableCall<Q, T>,
    private readonly signal: AbortSignal,
  ) {
    this.queue = new PrefetchQueue<Q>(deps.prefetch, {
      onFull: () => this.call?.pause(),
      onSpace: () => {
        this.call?.resume();
        this.onQueueSpace?.();
      },
      ...(spec.onQueueDepth ? { onDepth: spec.onQueueDepth } : {}),
    });
  }

  /** Streams until the end, a final error or the signal; never rejects (outcomes go to the queue). */
  async run(): Promise<void> {
    const started = performance.now();
    let failures = 0;
    let failedCalls = 0;
    try {
      for (;;) {
        const before = this.spec.accepted();
        await this.queueSpace();
        if (this.signal.aborted) break;
        const channel = await this.deps.channels.streamChannel(this.spec.rank, failedCalls);
        if (this.signal.aborted) break;
        const outcome = await this.stream(channel.client, channel.address);
        if (this.signal.aborted) break;
        if (outcome.ok || this.spec.finished()) {
          this.queue.end();
          return;
        }
        // A CANCELLED the client did not ask for (its own cancel settles the call first) comes from the other
        // side: a server ending its streams at the end of its shutdown grace while this client's unread items
        // still hold the UNAVAILABLE it sent, or a proxy. The stream goes on elsewhere.
        if (!isRetryable(outcome.error) && outcome.error.code !== 'CANCELLED') {
          this.queue.fail(outcome.error);
          return;
        }
        failures = (this.spec.accepted() > before ? 0 : failures) + 1;
        failedCalls += 1;
        if (failures >= this.deps.reconnect.maxAttempts) {
          this.queue.fail(
            giveUpError(
              this.spec.method,
              this.deps.channels.description,
              failures,
              started,
              outcome.error,
              ` since the stream started, ${this.spec.resumePoint()}`,
            ),
          );
          return;
        }
        const delayMs = backoffDelayMs(failures, this.deps.reconnect, this.deps.random);
        this.spec.onRetry?.(failures, delayMs, outcome.error);
        await sleep(delayMs, this.signal);
      }
    } catch (error) {
      if (!this.signal.aborted) {
        this.queue.fail(toFeedError(error, this.spec.method, this.deps.channels.description));
        return;
      }
    }
    this.queue.discard(this.signal.reason);
  }

  /**
   * Waits while the queue is full (or until the signal aborts). A new call is opened only when an item may
   * flow: grpc-js does not honour `pause()` on a call that has not delivered its first message yet, and a
   * call paused that early would read the server's messages into memory without bound.
   */
  private queueSpace(): Promise<void> {
    if (!this.queue.full || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.onQueueSpace = null;
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.onQueueSpace = done;
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** One gRPC call from the position reached; resolves when it ends, fails or is cancelled through the signal. */
  private stream(client: FeedGrpcClient, address: string): Promise<CallOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const call = this.spec.open(client, this.deps.channels.metadata());
      this.call = call;
      const finish = (outcome: CallOutcome) => {
        if (settled) return;
        settled = true;
        this.call = null;
        this.signal.removeEventListener('abort', onAbort);
        call.removeAllListeners('data');
        resolve(outcome);
      };
      const onAbort = () => {
        call.cancel();
        finish({ ok: true });
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      // Items still in grpc-js's buffer when the call fails are dropped with it: the next call asks for them
      // again from the position reached, which only counts items that reached the queue.
      call.on('data', (item: Q) => {
        if (settled) return;
        const refused = this.spec.accept(item, address);
        if (refused !== null) {
          call.cancel();
          finish({ ok: false, error: refused });
          return;
        }
        this.queue.push(item);
      });
      call.on('error', (error: unknown) =>
        finish({ ok: false, error: toFeedError(error, this.spec.method, address) }),
      );
      call.on('end', () => finish({ ok: true }));
      if (this.signal.aborted) onAbort();
    });
  }
}
