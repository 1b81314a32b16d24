import type { ClientReadableStream } from '@grpc/grpc-js';
import type { StreamBatchesRequest } from '@voxelfeed/proto';
import type { FeedBatch } from './feed-batch.js';
import type { FeedChannels } from './feed-channels.js';
import { FeedError, isRetryable, toFeedError } from './feed-error.js';
import type { FeedGrpcClient } from './feed-service.js';
import { PrefetchQueue } from './prefetch-queue.js';
import { backoffDelayMs, giveUpError, type ReconnectPolicy, sleep } from './reconnect.js';

export interface StreamBatchesOptions {
  /**
   * Stops the stream: the gRPC call is cancelled and the iterator throws `signal.reason` (an `AbortError`
   * DOMException unless `abort()` was given another), so an aborted epoch is never mistaken for a finished
   * one.
   */
  signal?: AbortSignal;
  /** Called whenever the number of batches waiting in the prefetch queue changes (metrics, tests). */
  onQueueDepth?: (depth: number) => void;
  /** Called before each retry after a connection failure (logs, metrics). */
  onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  /** Failed calls in a row so far, counting from the last call that delivered a batch (1 after a drop). */
  readonly failures: number;
  /** The wait before the next call. */
  readonly delayMs: number;
  /** The `start_step` of the next call. */
  readonly resumeAtStep: number;
  /** Why the last call failed. */
  readonly error: FeedError;
}

export interface BatchStreamDeps {
  readonly channels: FeedChannels;
  readonly prefetch: number;
  readonly reconnect: ReconnectPolicy;
  /** In [0, 1): the jitter of the reconnect backoff. */
  readonly random: () => number;
}

/**
 * The batches of one StreamBatches request, as an async iterable (each iteration streams anew).
 *
 * A producer moves batches from the gRPC stream into a PrefetchQueue of `prefetch` batches, pausing the
 * stream while the queue is full, and the consumer takes them in order. When the connection fails
 * (UNAVAILABLE, INTERNAL for a reset stream, or a CANCELLED the client did not ask for), the producer calls again after a jittered backoff with
 * `start_step` = the last received step + `step_stride` and `max_steps` reduced by what was received, so the consumer
 * sees every step exactly once and in order, whichever replica answers. It gives up with UNAVAILABLE after
 * `maxAttempts` failed calls in a row (a call that delivered a batch starts the count anew). Any other status
 * ends the stream with a FeedError after the batches already received. Leaving a `for await` early cancels
 * the call.
 */
export function batchStream(
  deps: BatchStreamDeps,
  request: StreamBatchesRequest,
  options: StreamBatchesOptions,
): AsyncIterable<FeedBatch> {
  return { [Symbol.asyncIterator]: () => consume(deps, request, options) };
}

async function* consume(
  deps: BatchStreamDeps,
  request: StreamBatchesRequest,
  options: StreamBatchesOptions,
): AsyncGenerator<FeedBatch, void, undefined> {
  const external = options.signal;
  external?.throwIfAborted();
  const stop = new AbortController();
  const onAbort = () => stop.abort(external?.reason);
  external?.addEventListener('abort', onAbort, { once: true });
  const producer = new Producer(deps, request, options, stop.signal);
  const produced = producer.run();
  try {
    for (;;) {
      const next = await producer.queue.take();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    external?.removeEventListener('abort', onAbort);
    stop.abort();
    await produced;
  }
}

type CallOutcome = { readonly ok: true } | { readonly ok: false; readonly error: FeedError };

class Producer {
  readonly queue: PrefetchQueue<FeedBatch>;
  private call: ClientReadableStream<FeedBatch> | null = null;
  /** Resolves the wait of a producer that holds off a new call while the queue is full. */
  private onQueueSpace: (() => void) | null = null;
  private readonly stride: number;
  /** Batches that reached the queue: what `max_steps` counts. */
  private received = 0;
  private nextStep: number;
  private stepsInEpoch = Number.POSITIVE_INFINITY;

  constructor(
    private readonly deps: BatchStreamDeps,
    private readonly request: StreamBatchesRequest,
    private readonly options: StreamBatchesOptions,
    private readonly signal: AbortSignal,
  ) {
    this.stride = Math.max(1, request.stepStride);
    this.nextStep = Number(request.startStep);
    this.queue = new PrefetchQueue<FeedBatch>(deps.prefetch, {
      onFull: () => this.call?.pause(),
      onSpace: () => {
        this.call?.resume();
        this.onQueueSpace?.();
      },
      ...(options.onQueueDepth ? { onDepth: options.onQueueDepth } : {}),
    });
  }

  /** Streams until the end, a final error or the signal; never rejects (outcomes go to the queue). */
  async run(): Promise<void> {
    const started = performance.now();
    let failures = 0;
    let failedCalls = 0;
    try {
      for (;;) {
        const stepBefore = this.nextStep;
        await this.queueSpace();
        if (this.signal.aborted) break;
        const channel = await this.deps.channels.streamChannel(this.request.rank, failedCalls);
        if (this.signal.aborted) break;
        const outcome = await this.stream(channel.client, channel.address);
        if (this.signal.aborted) break;
        if (outcome.ok || this.finished()) {
          this.queue.end();
          return;
        }
        // A CANCELLED the client did not ask for (its own cancel settles the call first) comes from the other
        // side: a server ending its streams at the end of its shutdown grace while this client's unread batches
        // still hold the UNAVAILABLE it sent, or a proxy. The epoch goes on elsewhere.
        if (!isRetryable(outcome.error) && outcome.error.code !== 'CANCELLED') {
          this.queue.fail(outcome.error);
          return;
        }
        failures = (this.nextStep > stepBefore ? 0 : failures) + 1;
        failedCalls += 1;
        if (failures >= this.deps.reconnect.maxAttempts) {
          this.queue.fail(
            giveUpError(
              'StreamBatches',
              this.deps.channels.description,
              failures,
              started,
              outcome.error,
              ` since the stream started, resuming at step ${this.nextStep}`,
            ),
          );
          return;
        }
        const delayMs = backoffDelayMs(failures, this.deps.reconnect, this.deps.random);
        this.options.onRetry?.({ failures, delayMs, resumeAtStep: this.nextStep, error: outcome.error });
        await sleep(delayMs, this.signal);
      }
    } catch (error) {
      if (!this.signal.aborted) {
        this.queue.fail(toFeedError(error, 'StreamBatches', this.deps.channels.description));
        return;
      }
    }
    this.queue.discard(this.signal.reason);
  }

  /**
   * Waits while the queue is full (or until the signal aborts). A new call is opened only when a batch may
   * flow: grpc-js does not honour `pause()` on a call that has not delivered its first message yet, and a
   * call paused that early would read the server's batches into memory without bound.
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

  /** Whether every requested step has been received, so a failure after the last one changes nothing. */
  private finished(): boolean {
    const maxSteps = Number(this.request.maxSteps);
    return this.nextStep >= this.stepsInEpoch || (maxSteps > 0 && this.received >= maxSteps);
  }

  /** One gRPC call from `nextStep`; resolves when it ends, fails or is cancelled through the signal. */
  private stream(client: FeedGrpcClient, address: string): Promise<CallOutcome> {
    const maxSteps = Number(this.request.maxSteps);
    const remaining = maxSteps === 0 ? 0 : maxSteps - this.received;
    const wire = { ...this.request, startStep: BigInt(this.nextStep), maxSteps: BigInt(remaining) };
    return new Promise((resolve) => {
      let settled = false;
      const call = client.streamBatches(wire, this.deps.channels.metadata());
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
      // Batches still in grpc-js's buffer when the call fails are dropped with it: the next call asks for
      // them again from `nextStep`, which only counts batches that reached the queue.
      call.on('data', (batch: FeedBatch) => {
        if (settled) return;
        if (batch.step !== this.nextStep) {
          call.cancel();
          const details = `the server sent step ${batch.step} where step ${this.nextStep} was due`;
          finish({
            ok: false,
            error: new FeedError('DATA_LOSS', details, `StreamBatches on ${address}: ${details}`),
          });
          return;
        }
        this.nextStep = batch.step + this.stride;
        this.received += 1;
        this.stepsInEpoch = batch.stepsInEpoch;
        this.queue.push(batch);
      });
      call.on('error', (error: unknown) =>
        finish({ ok: false, error: toFeedError(error, 'StreamBatches', address) }),
      );
      call.on('end', () => finish({ ok: true }));
      if (this.signal.aborted) onAbort();
    });
  }
}
