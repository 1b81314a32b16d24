import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import type { StreamBatchesRequest } from '@voxelfeed/proto';
import type { BatchMemory } from '../batches/batch-memory.js';
import { CropFitWarnings } from '../batches/crop-fit-warnings.js';
import { resolveStreamRequest } from '../batches/crop-request.js';
import type { DrainNotice } from '../batches/drain-notice.js';
import type { EncodedBatch } from '../batches/encoded-batch.js';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import { StreamAdmission } from '../batches/stream-admission.js';
import type { StreamObserver } from '../batches/stream-observer.js';
import { type ReadyBatch, streamReadyBatches } from '../batches/stream-ready-batches.js';
import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { ServiceLimits } from './service-limits.js';
import { toGrpcStatus } from './to-grpc-status.js';
import { BackpressuredWriter } from './write-with-backpressure.js';

export interface StreamBatchesDeps {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  readonly log: Logger;
  /** Where every stream's batch buffers come from: the server's budget for them (--batch-memory). */
  readonly batchMemory: BatchMemory;
  readonly observer?: StreamObserver;
  /**
   * Started when the server's shutdown grace is over: open streams stop preparing batches and end with
   * UNAVAILABLE (`SHUTTING_DOWN_MESSAGE`), which clients retry on another replica from the next step.
   */
  readonly draining?: DrainNotice;
}

export const SHUTTING_DOWN_MESSAGE = 'the server is shutting down; resume on another replica';

/**
 * Serves one rank's batches for one epoch from `start_step`: the batches come from streamReadyBatches (up to
 * `prefetchBatches` prepared ahead), and at most `maxUnflushedBatches` wait in gRPC's buffers, so a stream
 * holds a bounded number of batches in memory however slow its client; their buffers come from the server's
 * batch memory, so all streams together hold at most its budget. A cancel, a deadline or the end of the
 * shutdown grace aborts one signal that stops the batches and the wait for the client alike.
 */
export function createStreamBatchesHandler(deps: StreamBatchesDeps) {
  const admission = new StreamAdmission(deps.limits);
  const cropFit = new CropFitWarnings();
  return async (call: ServerWritableStream<StreamBatchesRequest, EncodedBatch['framed']>): Promise<void> => {
    const abort = new AbortController();
    const onCancelled = () =>
      abort.abort(new VoxelfeedError('UNAVAILABLE', 'the client cancelled the stream'));
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
    const request = call.request;
    const log = deps.log.child({
      stream: streamId,
      peer: call.getPeer(),
      dataset: request.dataset,
      seed: String(request.seed),
      epoch: request.epoch,
      rank: request.rank,
      worldSize: request.worldSize,
      rankGroups: request.rankGroups,
      batchSize: request.batchSize,
      crop: request.cropSize.join('x'),
      startStep: String(request.startStep),
      stepStride: request.stepStride,
    });
    log.debug({}, 'stream started');
    let batchesSent = 0;
    deps.observer?.onStreamStart?.();
    const writer = new BackpressuredWriter(call, deps.limits.maxUnflushedBatches, abort.signal);
    let endCode = 'OK';
    let endReason = '';
    let releaseSlot: (() => void) | null = null;
    /** Batches handed to gRPC and not yet flushed. */
    const withGrpc = new Set<ReadyBatch>();
    try {
      // Inside the try: a refusal ends the stream like any other error (logged, counted by code).
      releaseSlot = admission.admit(call.getPeer());
      const resolved = resolveStreamRequest(call.request, deps.registry, deps.limits);
      const batches = streamReadyBatches(resolved, abort.signal, {
        prefetchBatches: deps.limits.prefetchBatches,
        batchMemory: deps.batchMemory,
        log,
        streamId,
        observer: deps.observer,
        cropFit,
      });
      for await (const ready of batches) {
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
      // until they are collected. (Batches prepared ahead and never sent went back when the iteration ended.)
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
  };
}
