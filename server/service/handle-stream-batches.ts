import type { ServerWritableStream } from '@grpc/grpc-js';
import type { StreamBatchesRequest } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { planPosition, stepsInEpoch } from '../sampling/epoch-steps.js';
import { assembleBatch, type BatchTimings } from './assemble-batch.js';
import { BatchBufferPool } from './batch-buffer-pool.js';
import { resolveStreamRequest } from './crop-request.js';
import type { EncodedBatch } from './encoded-batch.js';
import type { DatasetRegistry } from './served-dataset.js';
import type { ServiceLimits } from './service-limits.js';
import { toGrpcStatus } from './to-grpc-status.js';
import { BackpressuredWriter } from './write-with-backpressure.js';

export interface StreamObserver {
  onStreamStart?(): void;
  onStreamEnd?(code: string): void;
  onBatch?(bytes: number, samples: number, timings: BatchTimings, totalSeconds: number): void;
}

export interface StreamBatchesDeps {
  readonly registry: DatasetRegistry;
  readonly limits: ServiceLimits;
  readonly log: Logger;
  readonly observer?: StreamObserver;
}

/**
 * Serves one rank's batches for one epoch from `start_step`. Up to `prefetchBatches` batches are prepared
 * ahead of the one being sent, and at most `maxUnflushedBatches` wait in gRPC's buffers, so a stream holds a
 * bounded number of batches in memory however slow its client. Cancellation or a deadline stops all work.
 */
export function createStreamBatchesHandler(deps: StreamBatchesDeps) {
  return async (call: ServerWritableStream<StreamBatchesRequest, EncodedBatch['bytes']>): Promise<void> => {
    const abort = new AbortController();
    const onCancelled = () =>
      abort.abort(new VoxelfeedError('UNAVAILABLE', 'the client cancelled the stream'));
    call.on('cancelled', onCancelled);
    deps.observer?.onStreamStart?.();
    const writer = new BackpressuredWriter(call, deps.limits.maxUnflushedBatches, abort.signal);
    const pool = new BatchBufferPool(deps.limits.prefetchBatches + deps.limits.maxUnflushedBatches + 1);
    let endCode = 'OK';
    try {
      const request = resolveStreamRequest(call.request, deps.registry, deps.limits);
      const plan = request.dataset.plans.get(request.policy, request.seed, request.epoch, request.split);
      const steps = stepsInEpoch(plan.size, request.worldSize, request.batchSize);
      if (request.startStep >= steps) {
        throw new VoxelfeedError(
          'OUT_OF_RANGE',
          `start_step is ${request.startStep} but epoch ${request.epoch} has ${steps} steps for world_size ${request.worldSize} and batch_size ${request.batchSize}; resume at 0..${steps - 1} or ask for the next epoch`,
        );
      }
      const endStep = request.maxSteps === 0 ? steps : Math.min(steps, request.startStep + request.maxSteps);
      const prepare = (step: number) => {
        const started = performance.now();
        const positions = Array.from({ length: request.batchSize }, (_, slot) =>
          planPosition(step, request.rank, slot, request.worldSize, request.batchSize),
        );
        const header = { step, stepsInEpoch: steps, rank: request.rank, worldSize: request.worldSize };
        const pending = assembleBatch(request, plan, positions, header, abort.signal, pool).then(
          (result) => ({
            ...result,
            seconds: (performance.now() - started) / 1000,
          }),
        );
        // A batch prepared ahead may fail after the stream has ended; its error is handled when awaited.
        pending.catch(() => {});
        return pending;
      };
      const ahead: ReturnType<typeof prepare>[] = [];
      let nextToPrepare = request.startStep;
      for (let step = request.startStep; step < endStep; step++) {
        while (nextToPrepare < endStep && ahead.length <= deps.limits.prefetchBatches) {
          ahead.push(prepare(nextToPrepare++));
        }
        const ready = await ahead.shift()!;
        if (abort.signal.aborted) break;
        deps.observer?.onBatch?.(
          ready.batch.bytes.byteLength,
          request.batchSize,
          ready.timings,
          ready.seconds,
        );
        if (!(await writer.write(ready.batch.bytes, () => pool.release(ready.batch.backing)))) break;
      }
      if (abort.signal.aborted) {
        endCode = 'CANCELLED';
        return;
      }
      call.end();
    } catch (error) {
      if (abort.signal.aborted) {
        endCode = 'CANCELLED';
        return;
      }
      const status = toGrpcStatus(error, deps.log);
      endCode = String(status.code);
      deps.log.warn(
        { code: status.code, details: status.details, peer: call.getPeer() },
        'stream ended with an error',
      );
      call.emit('error', status);
    } finally {
      writer.dispose();
      call.off('cancelled', onCancelled);
      abort.abort();
      deps.observer?.onStreamEnd?.(endCode);
    }
  };
}
