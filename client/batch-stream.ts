import type { StreamBatchesRequest } from '@voxelfeed/proto';
import type { FeedBatch } from './feed-batch.js';
import { FeedError } from './feed-error.js';
import { type ResumableCall, type ResumableStreamDeps, resumableStream } from './resumable-stream.js';
import { openSharedMemoryBatchCall, type SharedMemoryAnswer } from './shm-batch-call.js';
import {
  OWN_BUFFERS,
  reusedBuffer,
  SharedBatchPointer,
  type SharedMemoryBatchReader,
} from './shm-batch-reader.js';
import { DEFAULT_SHARED_MEMORY_DIRECTORY } from './shm-probe.js';

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
  /**
   * The same-host path (docs/same-host.md): for a trainer on the server's host, batches are handed over in
   * shared memory instead of the socket. `true` uses /dev/shm; `{ directory }` another directory both see.
   * Batches are the same either way; where the server cannot read this host's probe (another host) the
   * stream is the normal one, and `onSharedMemory` says why.
   *
   * `reuseBuffers: true` reads every batch into one buffer, used again for the next: a batch's arrays are
   * then valid until the loop asks for the next batch (copy what you keep longer, e.g.
   * `batch.image.slice()`), as the Python client's views are. A new buffer per batch costs the client several
   * times the CPU of the read itself (page faults and garbage collection; docs/performance.md).
   */
  sharedMemory?: boolean | { readonly directory?: string; readonly reuseBuffers?: boolean };
  /** Called on each call of a `sharedMemory` stream with the server's answer (logs, tests). */
  onSharedMemory?: (answer: SharedMemoryAnswer) => void;
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

export type BatchStreamDeps = ResumableStreamDeps;

/**
 * The batches of one StreamBatches request, as an async iterable (each iteration streams anew), prefetched
 * and resumed after connection failures by resumableStream: the next call asks for `start_step` = the last
 * received step + `step_stride` and `max_steps` reduced by what was received, so the consumer sees every
 * step exactly once and in order, whichever replica answers. A batch out of order ends the stream with
 * DATA_LOSS.
 */
export function batchStream(
  deps: BatchStreamDeps,
  request: StreamBatchesRequest,
  options: StreamBatchesOptions,
): AsyncIterable<FeedBatch> {
  return {
    [Symbol.asyncIterator]: () => resumableStream(deps, batchCalls(request, options), options.signal),
  };
}

/** StreamBatches' part of the reconnect loop: the step to resume at, and batches checked to follow it. */
function batchCalls(
  request: StreamBatchesRequest,
  options: StreamBatchesOptions,
): ResumableCall<FeedBatch | SharedBatchPointer, FeedBatch> {
  const stride = Math.max(1, request.stepStride);
  const maxSteps = Number(request.maxSteps);
  let nextStep = Number(request.startStep);
  /** Batches that reached the queue: what `max_steps` counts. */
  let received = 0;
  let stepsInEpoch = Number.POSITIVE_INFINITY;
  const shared = options.sharedMemory;
  const directory =
    shared === undefined || shared === false
      ? null
      : ((shared === true ? undefined : shared.directory) ?? DEFAULT_SHARED_MEMORY_DIRECTORY);
  const buffers = typeof shared === 'object' && shared.reuseBuffers === true ? reusedBuffer() : OWN_BUFFERS;
  /** The same-host calls' readers, whose pointers may be left unread when the stream ends. */
  const readers: SharedMemoryBatchReader[] = [];
  return {
    method: 'StreamBatches',
    rank: request.rank,
    open: (client, metadata) => {
      const remaining = maxSteps === 0 ? 0 : maxSteps - received;
      const wire = { ...request, startStep: BigInt(nextStep), maxSteps: BigInt(remaining) };
      if (directory === null) return client.streamBatches(wire, metadata);
      return openSharedMemoryBatchCall(client, wire, metadata, () => metadata.clone(), {
        directory,
        onAnswer: options.onSharedMemory,
        buffers,
        onReader: (reader) => readers.push(reader),
      });
    },
    accept: (batch, address) => {
      if (batch.step !== nextStep) {
        const details = `the server sent step ${batch.step} where step ${nextStep} was due`;
        return new FeedError('DATA_LOSS', details, `StreamBatches on ${address}: ${details}`);
      }
      if (batch instanceof SharedBatchPointer) batch.queued();
      nextStep = batch.step + stride;
      received += 1;
      stepsInEpoch = batch.stepsInEpoch;
      return null;
    },
    accepted: () => received,
    finished: () => nextStep >= stepsInEpoch || (maxSteps > 0 && received >= maxSteps),
    resumePoint: () => `resuming at step ${nextStep}`,
    onRetry: (failures, delayMs, error) =>
      options.onRetry?.({ failures, delayMs, resumeAtStep: nextStep, error }),
    deliver: (batch) => (batch instanceof SharedBatchPointer ? batch.read() : batch),
    dispose: () => {
      for (const reader of readers.splice(0)) reader.dispose();
    },
    ...(options.onQueueDepth ? { onQueueDepth: options.onQueueDepth } : {}),
  };
}
