import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import type { DrainNotice } from '../batches/drain-notice.js';
import type { EncodedBatch } from '../batches/encoded-batch.js';
import type { StreamAdmission } from '../batches/stream-admission.js';
import type { StreamObserver } from '../batches/stream-observer.js';
import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ServiceLimits } from './service-limits.js';
import { toGrpcStatus } from './to-grpc-status.js';
import { BackpressuredWriter } from './write-with-backpressure.js';

/** A message of batch memory ready to send: gRPC sends `batch.framed`, and it is released once flushed. */
export interface HeldMessage {
  readonly batch: EncodedBatch;
  /** The message was flushed (or will never be sent): its buffer goes back to batch memory. */
  release(): void;
  /** The call ended before the message was reported flushed: its buffer counts until collected. */
  abandon(): void;
}

/** What every streaming call of the service shares: its limits, its slot, the drain and the observer. */
export interface MessageStreamDeps {
  readonly limits: Pick<ServiceLimits, 'maxUnflushedBatches'>;
  readonly log: Logger;
  /** Open streams of every streaming method together, against --max-streams and --max-streams-per-peer. */
  readonly admission: StreamAdmission;
  readonly observer?: StreamObserver | undefined;
  /**
   * Started when the server's shutdown grace is over: open streams stop preparing messages and end with
   * UNAVAILABLE (`SHUTTING_DOWN_MESSAGE`), which clients retry on another replica from where they were.
   */
  readonly draining?: DrainNotice | undefined;
}

export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down; resume on another replica';

/** One call's part: the fields its log lines carry, and its messages once admitted. */
export interface MessageStreamSpec {
  readonly logFields: Readonly<Record<string, unknown>>;
  /**
   * The call's messages, each held in batch memory until released. Called after admission, inside the
   * stream's error handling: a bad request thrown here ends the call with its status like any other error.
   */
  messages(signal: AbortSignal, log: Logger, streamId: string): AsyncIterable<HeldMessage>;
}

/**
 * Serves one server-streaming call of pre-framed messages (StreamBatches, StreamTiles): takes a slot from the
 * shared admission, writes the messages with at most `maxUnflushedBatches` waiting in gRPC's buffers (so a
 * stream holds a bounded number of messages however slow its client), and ends with one log line and one
 * observer report of the code it ended with. A cancel, a deadline or the end of the shutdown grace aborts one
 * signal that stops the messages and the wait for the client alike.
 */
export async function serveMessageStream(
  call: ServerWritableStream<unknown, EncodedBatch['framed']>,
  deps: MessageStreamDeps,
  spec: MessageStreamSpec,
): Promise<void> {
  const abort = new AbortController();
  const onCancelled = () => abort.abort(new VoxelfeedError('UNAVAILABLE', 'the client cancelled the stream'));
  call.on('cancelled', onCancelled);
  let drained = false;
  const onDraining = () => {
    if (abort.signal.aborted) return;
    drained = true;
    abort.abort(new VoxelfeedError('UNAVAILABLE', SHUTTING_DOWN_MESSAGE));
  };
  const stopListening = deps.draining?.subscribe(onDraining);
  const started = performance.now();
  const streamId = randomUUID().slice(0, 8);
  const log = deps.log.child({ stream: streamId, peer: call.getPeer(), ...spec.logFields });
  log.debug({}, 'stream started');
  let batchesSent = 0;
  deps.observer?.onStreamStart?.();
  const writer = new BackpressuredWriter(call, deps.limits.maxUnflushedBatches, abort.signal);
  let endCode = 'OK';
  let endReason = '';
  let releaseSlot: (() => void) | null = null;
  /** Messages handed to gRPC and not yet flushed. */
  const withGrpc = new Set<HeldMessage>();
  try {
    // Inside the try: a refusal ends the stream like any other error (logged, counted by code).
    releaseSlot = deps.admission.admit(call.getPeer());
    for await (const ready of spec.messages(abort.signal, log, streamId)) {
      // gRPC sends `framed` itself (pre-framed-messages.ts): the buffer is free again once flushed.
      withGrpc.add(ready);
      const flushed = () => {
        withGrpc.delete(ready);
        ready.release();
      };
      if (!(await writer.write(ready.batch.framed, flushed))) break;
      batchesSent += 1;
    }
    if (drained) throw abort.signal.reason;
    if (abort.signal.aborted) {
      endCode = 'CANCELLED';
      return;
    }
    call.end();
  } catch (error) {
    if (abort.signal.aborted && !drained) {
      endCode = 'CANCELLED';
      return;
    }
    const status = toGrpcStatus(drained ? abort.signal.reason : error, log);
    endReason = status.details;
    endCode = GrpcStatus[status.code] ?? String(status.code);
    call.emit('error', status);
  } finally {
    // A call that did not end OK never reports its last writes flushed: batch memory counts those buffers
    // until they are collected. (Messages prepared ahead and never sent went back when the iteration ended.)
    if (endCode !== 'OK') for (const ready of withGrpc) ready.abandon();
    writer.dispose();
    call.off('cancelled', onCancelled);
    stopListening?.();
    abort.abort();
    releaseSlot?.();
    const seconds = (performance.now() - started) / 1000;
    const fields = { code: endCode, batches: batchesSent, seconds: Number(seconds.toFixed(3)) };
    if (endCode === 'OK' || endCode === 'CANCELLED') log.info(fields, `stream ended: ${endCode}`);
    else log.warn({ ...fields, reason: endReason }, `stream ended: ${endCode}`);
    deps.observer?.onStreamEnd?.(endCode, seconds);
  }
}
