import { randomUUID } from 'node:crypto';
import { status as GrpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import type { StreamBatchesRequest } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { assemblerAroundBadSeries } from '../batches/assemble-around-bad-series.js';
import type { BatchTimings } from '../batches/assemble-batch.js';
import type { BatchBuffers, BatchMemory } from '../batches/batch-memory.js';
import { CropFitWarnings } from '../batches/crop-fit-warnings.js';
import { resolveStreamRequest } from '../batches/crop-request.js';
import type { DrainNotice } from '../batches/drain-notice.js';
import type { EncodedBatch } from '../batches/encoded-batch.js';
import type { DatasetRegistry } from '../batches/served-dataset.js';
import { StreamAdmission } from '../batches/stream-admission.js';
import { untilAborted } from '../batches/until-aborted.js';
import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { planPosition, stepsInEpoch } from '../sampling/epoch-steps.js';
import type { ServiceLimits } from './service-limits.js';
import { toGrpcStatus } from './to-grpc-status.js';
import { BackpressuredWriter } from './write-with-backpressure.js';

export interface BatchSent {
  readonly bytes: number;
  readonly samples: number;
  readonly timings: BatchTimings;
  /** From starting the batch to having it ready (volumes, crops, encoding). */
  readonly batchSeconds: number;
  /** How long the ready batch waited for the client (earlier batches not yet flushed). */
  readonly backpressureSeconds: number;
}

export interface StreamObserver {
  onStreamStart?(): void;
  /** `code` is the gRPC status name the stream ended with: OK, CANCELLED, INVALID_ARGUMENT, DATA_LOSS... */
  onStreamEnd?(code: string, seconds: number): void;
  onBatch?(sent: BatchSent): void;
  /**
   * The number of batches stream `stream` (the id in its log lines) holds in memory changed: being prepared,
   * ready, or handed to gRPC and not yet flushed. At most `prefetchBatches + maxUnflushedBatches`.
   */
  onBatchesHeld?(stream: string, held: number): void;
}

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
 * Serves one rank's batches for one epoch from `start_step`. Up to `prefetchBatches` batches are prepared
 * ahead of the one being sent, and at most `maxUnflushedBatches` wait in gRPC's buffers, so a stream holds a
 * bounded number of batches in memory however slow its client; their buffers come from the server's batch
 * memory, so all streams together hold at most its budget. Cancellation or a deadline stops all work.
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
    });
    log.debug({}, 'stream started');
    let batchesSent = 0;
    deps.observer?.onStreamStart?.();
    const writer = new BackpressuredWriter(call, deps.limits.maxUnflushedBatches, abort.signal);
    let endCode = 'OK';
    let endReason = '';
    let releaseSlot: (() => void) | null = null;
    let held = 0;
    const holding = (change: 1 | -1) => {
      held += change;
      deps.observer?.onBatchesHeld?.(streamId, held);
    };
    // Asked for synchronously as a batch starts: `held` is 1 for a stream whose only batch it is, which then
    // goes before batches prepared ahead by other streams.
    const buffers: BatchBuffers = {
      acquire: (bytes, signal) => deps.batchMemory.acquire(bytes, signal, held === 1),
      release: (buffer) => deps.batchMemory.release(buffer),
    };
    const ahead: Promise<PreparedBatch>[] = [];
    /** Buffers handed to gRPC and not yet flushed. */
    const withGrpc = new Set<Buffer>();
    try {
      // Inside the try: a refusal ends the stream like any other error (logged, counted by code).
      releaseSlot = admission.admit(call.getPeer());
      const resolved = resolveStreamRequest(call.request, deps.registry, deps.limits);
      cropFit.check(resolved.datasetName, resolved.dataset.catalog, resolved.cropSize, log);
      // A new plan is built in slices between other streams' work; the stream starts once it is ready, or
      // ends at once on a cancel or the end of the shutdown grace (the build goes on for other streams).
      const plan = await untilAborted(
        resolved.dataset.plans.get(resolved.policy, resolved.seed, resolved.epoch, resolved.split),
        abort.signal,
      );
      const steps = stepsInEpoch(plan.size, resolved.worldSize, resolved.batchSize);
      if (resolved.startStep >= steps) {
        throw new VoxelfeedError(
          'OUT_OF_RANGE',
          `start_step is ${resolved.startStep} but epoch ${resolved.epoch} has ${steps} steps for world_size ${resolved.worldSize} and batch_size ${resolved.batchSize}; resume at 0..${steps - 1} or ask for the next epoch`,
        );
      }
      const grouping = { rankGroups: resolved.rankGroups, stepsInEpoch: steps };
      const endStep =
        resolved.maxSteps === 0 ? steps : Math.min(steps, resolved.startStep + resolved.maxSteps);
      const assemble = assemblerAroundBadSeries(resolved, plan, abort.signal, buffers);
      const prepare = (step: number): Promise<PreparedBatch> => {
        const begun = performance.now();
        holding(1);
        const positions = Array.from({ length: resolved.batchSize }, (_, slot) =>
          planPosition(step, resolved.rank, slot, resolved.worldSize, resolved.batchSize, grouping),
        );
        const header = { step, stepsInEpoch: steps, rank: resolved.rank, worldSize: resolved.worldSize };
        const pending = assemble(positions, header).then((result) => ({
          ...result,
          seconds: (performance.now() - begun) / 1000,
          readyAt: performance.now(),
        }));
        // A batch prepared ahead may fail after the stream has ended; its error is handled when awaited.
        pending.catch(() => {});
        return pending;
      };
      let nextToPrepare = resolved.startStep;
      for (let step = resolved.startStep; step < endStep; step++) {
        while (nextToPrepare < endStep && ahead.length <= deps.limits.prefetchBatches) {
          ahead.push(prepare(nextToPrepare++));
        }
        const ready = await ahead.shift()!;
        if (abort.signal.aborted) {
          buffers.release(ready.batch.backing);
          break;
        }
        deps.observer?.onBatch?.({
          bytes: ready.batch.bytes.byteLength,
          samples: resolved.batchSize,
          timings: ready.timings,
          batchSeconds: ready.seconds,
          backpressureSeconds: (performance.now() - ready.readyAt) / 1000,
        });
        // gRPC sends `framed` itself (pre-framed-messages.ts): the buffer is free again once flushed.
        withGrpc.add(ready.batch.backing);
        const flushed = () => {
          withGrpc.delete(ready.batch.backing);
          buffers.release(ready.batch.backing);
          holding(-1);
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
      // until they are collected. Batches prepared ahead and never sent go back as soon as they settle.
      if (endCode !== 'OK') for (const buffer of withGrpc) deps.batchMemory.abandon(buffer);
      for (const pending of ahead.splice(0)) {
        pending.then(
          (unsent) => buffers.release(unsent.batch.backing),
          () => {},
        );
      }
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

interface PreparedBatch {
  readonly batch: EncodedBatch;
  readonly timings: BatchTimings;
  readonly seconds: number;
  readonly readyAt: number;
}
