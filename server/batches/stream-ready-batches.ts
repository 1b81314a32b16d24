import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { planPosition, stepsInEpoch } from '../sampling/epoch-steps.js';
import { assemblerAroundBadSeries } from './assemble-around-bad-series.js';
import type { BatchTimings } from './assemble-batch.js';
import type { BatchBuffers, BatchMemory } from './batch-memory.js';
import type { CropFitWarnings } from './crop-fit-warnings.js';
import type { StreamRequest } from './crop-request.js';
import type { EncodedBatch } from './encoded-batch.js';
import type { StreamObserver } from './stream-observer.js';
import { untilAborted } from './until-aborted.js';

/** A batch ready to send; its buffer belongs to the consumer until it calls `release` or `abandon`. */
export interface ReadyBatch {
  readonly step: number;
  readonly batch: EncodedBatch;
  readonly timings: BatchTimings;
  /** Gives the buffer back to batch memory: the batch has been sent (gRPC: flushed) or will not be. Once. */
  release(): void;
  /**
   * The buffer may still be referenced where it cannot be followed (a write not reported flushed when its
   * call ended): batch memory counts it until it is collected, and a later `release` hands nothing back.
   */
  abandon(): void;
}

export interface ReadyBatchesDeps {
  /** Batches prepared ahead of the one the consumer holds (serve --prefetch-batches). */
  readonly prefetchBatches: number;
  /** Where every batch buffer comes from: the server's budget for them (--batch-memory). */
  readonly batchMemory: BatchMemory;
  /** The stream's logger (its fields name the stream). */
  readonly log: Logger;
  /** The stream's id, as its log lines name it: the key of `observer.onBatchesHeld`. */
  readonly streamId: string;
  readonly observer?: StreamObserver | undefined;
  /** The server's warnings about nodules larger than the crop, said once per data set and crop size. */
  readonly cropFit?: CropFitWarnings | undefined;
}

/**
 * One rank's batches of one epoch from `request.startStep` (every `stepStride`-th step), in step order, as they become ready: waits for the
 * epoch plan (built once per data set and shared, PlanCache), checks the start step, then prepares up to
 * `prefetchBatches` batches ahead of the one the consumer holds, around bad series where the data set says so
 * (assemblerAroundBadSeries). Each batch's buffer comes from batch memory and is the consumer's until it
 * releases it, so the batches a stream holds are bounded however slowly it is consumed.
 *
 * When `signal` aborts (a cancel, the end of the shutdown grace) all work stops, batches prepared ahead go
 * back to batch memory as they settle, and the iteration throws the signal's reason. Ending the iteration
 * early (`break`, `return`) does the same without an error. Bad requests and unreadable series end it with
 * the VoxelfeedError that says so (OUT_OF_RANGE, DATA_LOSS...).
 */
export async function* streamReadyBatches(
  request: StreamRequest,
  signal: AbortSignal,
  deps: ReadyBatchesDeps,
): AsyncGenerator<ReadyBatch, void, undefined> {
  let held = 0;
  const holding = (change: 1 | -1) => {
    held += change;
    deps.observer?.onBatchesHeld?.(deps.streamId, held);
  };
  // Asked for synchronously as a batch starts: `held` is 1 for a stream whose only batch it is, which then
  // goes before batches prepared ahead by other streams.
  const buffers: BatchBuffers = {
    acquire: (bytes, acquireSignal) => deps.batchMemory.acquire(bytes, acquireSignal, held === 1),
    release: (buffer) => deps.batchMemory.release(buffer),
  };
  const ahead: Promise<PreparedBatch>[] = [];
  try {
    deps.cropFit?.check(request.datasetName, request.dataset.catalog, request.cropSize, deps.log);
    // A new plan is built in slices between other streams' work; the stream starts once it is ready, or
    // ends at once on a cancel or the end of the shutdown grace (the build goes on for other streams).
    const plan = await untilAborted(
      request.dataset.plans.get(request.policy, request.seed, request.epoch, request.split),
      signal,
    );
    const steps = stepsInEpoch(plan.size, request.worldSize, request.batchSize);
    if (request.startStep >= steps) {
      throw new VoxelfeedError(
        'OUT_OF_RANGE',
        `start_step is ${request.startStep} but epoch ${request.epoch} has ${steps} steps for world_size ${request.worldSize} and batch_size ${request.batchSize}; resume at 0..${steps - 1} or ask for the next epoch`,
      );
    }
    const layout = {
      worldSize: request.worldSize,
      batchSize: request.batchSize,
      grouping: { rankGroups: request.rankGroups, stepsInEpoch: steps },
    };
    const stride = request.stepStride;
    const endStep =
      request.maxSteps === 0 ? steps : Math.min(steps, request.startStep + request.maxSteps * stride);
    const assemble = assemblerAroundBadSeries({ request, plan, signal, buffers });
    let backgroundMisses = 0;
    const prepare = (step: number): Promise<PreparedBatch> => {
      const begun = performance.now();
      holding(1);
      const positions = Array.from({ length: request.batchSize }, (_, slot) =>
        planPosition(layout, step, request.rank, slot),
      );
      const header = { step, stepsInEpoch: steps, rank: request.rank, worldSize: request.worldSize };
      const pending = assemble(positions, header).then((result) => ({
        ...result,
        step,
        seconds: (performance.now() - begun) / 1000,
        readyAt: performance.now(),
      }));
      // A batch prepared ahead may fail after the stream has ended; its error is handled when awaited.
      pending.catch(() => {});
      return pending;
    };
    let nextToPrepare = request.startStep;
    for (let step = request.startStep; step < endStep; step += stride) {
      while (nextToPrepare < endStep && ahead.length <= deps.prefetchBatches) {
        ahead.push(prepare(nextToPrepare));
        nextToPrepare += stride;
      }
      const ready = await ahead.shift()!;
      if (signal.aborted) {
        buffers.release(ready.batch.backing);
        throw signal.reason;
      }
      if (ready.backgroundMisses > 0 && backgroundMisses === 0) {
        // Once per stream: every such sample says so in its SampleInfo (background_missed).
        deps.log.warn(
          { step: ready.step, samples: ready.backgroundMisses },
          `${ready.backgroundMisses} negative crop(s) of step ${ready.step} still hold foreground after ${request.policy.backgroundMaxDraws} draws (SampleInfo.background_missed); raise sampling.background_max_draws or use a smaller crop`,
        );
      }
      backgroundMisses += ready.backgroundMisses;
      deps.observer?.onBatch?.({
        bytes: ready.batch.bytes.byteLength,
        samples: request.batchSize,
        timings: ready.timings,
        batchSeconds: ready.seconds,
        backpressureSeconds: (performance.now() - ready.readyAt) / 1000,
      });
      let released = false;
      yield {
        step: ready.step,
        batch: ready.batch,
        timings: ready.timings,
        release: () => {
          if (released) return;
          released = true;
          buffers.release(ready.batch.backing);
          holding(-1);
        },
        abandon: () => deps.batchMemory.abandon(ready.batch.backing),
      };
    }
  } finally {
    // Batches prepared ahead and never handed out go back as soon as they settle.
    for (const pending of ahead.splice(0)) {
      pending.then(
        (unsent) => buffers.release(unsent.batch.backing),
        () => {},
      );
    }
  }
}

interface PreparedBatch {
  readonly step: number;
  readonly batch: EncodedBatch;
  readonly timings: BatchTimings;
  readonly backgroundMisses: number;
  readonly seconds: number;
  readonly readyAt: number;
}
