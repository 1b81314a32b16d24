import { VoxelfeedError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { planPosition, stepsInEpoch } from '../sampling/epoch-steps.js';
import { assemblerAroundBadSeries } from './assemble-around-bad-series.js';
import type { BatchTimings } from './assemble-batch.js';
import type { CropFitWarnings } from './crop-fit-warnings.js';
import type { StreamRequest } from './crop-request.js';
import type { EncodedBatch } from './encoded-batch.js';
import { type HeldBatch, HeldBatches, type HeldBatchesDeps } from './held-batches.js';
import { untilAborted } from './until-aborted.js';

/** A batch ready to send; its buffer belongs to the consumer until it calls `release` or `abandon`. */
export interface ReadyBatch extends HeldBatch {
  readonly step: number;
  readonly batch: EncodedBatch;
  readonly timings: BatchTimings;
}

export interface ReadyBatchesDeps extends HeldBatchesDeps {
  /** The stream's logger (its fields name the stream). */
  readonly log: Logger;
  /** The server's warnings about nodules larger than the crop, said once per data set and crop size. */
  readonly cropFit?: CropFitWarnings | undefined;
  /** Where the client receives each message (AssembleContext.imageLanding); absent: 0. */
  readonly imageLanding?: number | undefined;
}

/**
 * One rank's batches of one epoch from `request.startStep` (every `stepStride`-th step), in step order, as they become ready: waits for the
 * epoch plan (built once per data set and shared, PlanCache), checks the start step, then prepares up to
 * `prefetchBatches` batches ahead of the one the consumer holds, around bad series where the data set says so
 * (assemblerAroundBadSeries). Each batch's buffer comes from batch memory and is the consumer's until it
 * releases it, so the batches a stream holds are bounded however slowly it is consumed (HeldBatches).
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
  const held = new HeldBatches(deps);
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
  const assemble = assemblerAroundBadSeries({
    request,
    plan,
    signal,
    buffers: held.buffers,
    imageLanding: deps.imageLanding,
  });
  let backgroundMisses = 0;
  yield* held.prefetch(signal, {
    jobs: rankSteps(request.startStep, endStep, stride),
    assemble: async (step) => {
      const positions = Array.from({ length: request.batchSize }, (_, slot) =>
        planPosition(layout, step, request.rank, slot),
      );
      const header = { step, stepsInEpoch: steps, rank: request.rank, worldSize: request.worldSize };
      const assembled = await assemble(positions, header);
      const misses = assembled.backgroundMisses;
      if (misses > 0 && backgroundMisses === 0) {
        // Once per stream: every such sample says so in its SampleInfo (background_missed).
        deps.log.warn(
          { step, samples: misses },
          `${misses} negative crop(s) of step ${step} still hold foreground after ${request.policy.backgroundMaxDraws} draws (SampleInfo.background_missed); raise sampling.background_max_draws or use a smaller crop`,
        );
      }
      backgroundMisses += misses;
      return assembled;
    },
    samples: () => request.batchSize,
    describe: (step, { batch, timings }) => ({ step, batch, timings }),
  });
}

/** This rank's steps: every `stride`-th from `start`, before `end`. */
function* rankSteps(start: number, end: number, stride: number): Generator<number, void, undefined> {
  for (let step = start; step < end; step += stride) yield step;
}
