import type { FeedBatch, FeedClient, SharedMemoryAnswer, StreamBatchesInput } from '@voxelfeed/client';
import type { DataCursor } from '../checkpoint/checkpoint-store.js';
import type { TrainerMetrics } from '../metrics/trainer-metrics.js';
import type { StepRecord, StepTimeline } from '../stats/step-timeline.js';
import type { BatchEvaluator, StepResult, StepRunner } from './step-runner.js';

export interface TrainLoopOptions {
  readonly job: string;
  readonly rank: number;
  readonly worldSize: number;
  /** The request's rank_groups: 1, or the number of replicas ranks are pinned to (rank affinity). */
  readonly rankGroups?: number;
  readonly dataset: string;
  readonly seed: number;
  /** Train until this epoch is done (exclusive) ... */
  readonly epochs: number;
  /** ... or this many steps in all, whichever comes first; 0 = no step limit. */
  readonly maxSteps: number;
  readonly batchSize: number;
  readonly cropSize: readonly [number, number, number];
  /** Share of series held out for validation (split by a hash of the series uid); 0 trains on every series. */
  readonly holdoutFraction: number;
  /** Extra sampling options for training streams (probabilities, negatives per epoch). */
  readonly sampling?: StreamBatchesInput['sampling'];
  readonly checkpointEvery: number;
  readonly validateEvery: number;
  /** At most this many validation batches per validation (0 = the whole held-out epoch). */
  readonly maxValidationBatches: number;
  readonly reportEveryMs: number;
  readonly backend: string;
  /**
   * Training batches through shared memory in this directory when the server is on this host (one reused
   * buffer: the runner's `prepare` copies a batch before the loop asks for the next).
   */
  readonly sharedMemory?: string;
}

export interface StepEvent {
  readonly epoch: number;
  readonly step: number;
  readonly stepsInEpoch: number;
  readonly globalStep: number;
  readonly loss: number;
  /** Batch Dice of this step's prediction, when the runner computes it. */
  readonly dice: number | null;
  readonly record: StepRecord;
  readonly sampleIndices: readonly number[];
  readonly idleRatio: number;
}

export interface TrainSummary {
  readonly steps: number;
  readonly samples: number;
  readonly firstLoss: number | null;
  readonly lastLoss: number | null;
  /** The last step's loss averaged over every rank (null: one rank, or no step). */
  readonly lastMeanLoss: number | null;
  /** Seconds spent exchanging gradients with the other ranks (0 with one rank). */
  readonly allReduceSeconds: number;
  readonly idleRatio: number;
  readonly gpuIdleSeconds: number;
  readonly stepSeconds: number;
  readonly dataWaitSeconds: number;
  readonly validationDice: number | null;
  readonly cursor: DataCursor;
  readonly globalStep: number;
  readonly seconds: number;
}

export interface TrainLoopDeps<Prepared> {
  readonly feed: FeedClient;
  readonly runner: StepRunner<Prepared>;
  readonly evaluator?: BatchEvaluator;
  readonly timeline: StepTimeline;
  readonly metrics?: TrainerMetrics;
  readonly log: { info(fields: object, message: string): void; warn(fields: object, message: string): void };
  /** Saves weights, optimizer state and the cursor (the next batch to train on). */
  readonly saveCheckpoint?: (cursor: DataCursor, globalStep: number) => Promise<void>;
  readonly start: { readonly cursor: DataCursor; readonly globalStep: number };
  readonly onStep?: (event: StepEvent) => void;
  readonly signal?: AbortSignal;
  readonly now: () => number;
}

/**
 * The training loop of one rank: streams its batches epoch by epoch from the cursor on, runs each step, and
 * keeps the books (GPU idle time, metrics, reports to the server, checkpoints, validation). Every batch is a
 * pure function of (seed, epoch, step, rank, world size), so resuming from a checkpoint's cursor continues with
 * exactly the batch that would have come next.
 */
export async function runTrainLoop<Prepared>(
  options: TrainLoopOptions,
  deps: TrainLoopDeps<Prepared>,
): Promise<TrainSummary> {
  const started = deps.now();
  let cursor = deps.start.cursor;
  let globalStep = deps.start.globalStep;
  let firstLoss: number | null = null;
  let lastLoss: number | null = null;
  let lastMeanLoss: number | null = null;
  let allReduceSeconds = 0;
  let validationDice: number | null = null;
  const reporter = createReporter(options, deps);
  const stepLimitReached = () => options.maxSteps > 0 && globalStep >= options.maxSteps;
  const isCheckpointStep = (step: number) =>
    step > 0 &&
    deps.saveCheckpoint !== undefined &&
    options.checkpointEvery > 0 &&
    step % options.checkpointEvery === 0;
  const isValidationStep = (step: number) =>
    step > 0 &&
    deps.evaluator !== undefined &&
    options.holdoutFraction > 0 &&
    options.validateEvery > 0 &&
    step % options.validateEvery === 0;

  while (cursor.epoch < options.epochs && !stepLimitReached() && !deps.signal?.aborted) {
    const remaining = options.maxSteps > 0 ? options.maxSteps - globalStep : 0;
    const stream = deps.feed.streamBatches(
      {
        dataset: options.dataset,
        seed: options.seed,
        epoch: cursor.epoch,
        rank: options.rank,
        worldSize: options.worldSize,
        rankGroups: options.rankGroups ?? 1,
        batchSize: options.batchSize,
        cropSize: options.cropSize,
        dtype: 'uint8',
        includeMask: true,
        startStep: cursor.step,
        maxSteps: remaining,
        ...(options.sampling ? { sampling: options.sampling } : {}),
        ...(options.holdoutFraction > 0
          ? { split: { holdoutFraction: options.holdoutFraction, part: 'train' } }
          : {}),
      },
      {
        ...(deps.signal ? { signal: deps.signal } : {}),
        ...(options.sharedMemory === undefined
          ? {}
          : {
              sharedMemory: { directory: options.sharedMemory, reuseBuffers: true },
              onSharedMemory: ({ used, reason }: SharedMemoryAnswer) =>
                used
                  ? deps.log.info({ directory: options.sharedMemory }, 'batches through shared memory')
                  : deps.log.warn({ reason }, 'same-host path refused: streaming normally'),
            }),
      },
    );
    let received = 0;
    const iterator = stream[Symbol.asyncIterator]();
    // Steps launched and not yet finished, oldest first, with the batches they came from.
    const running: Array<{ readonly result: Promise<StepResult>; readonly batch: FeedBatch }> = [];
    let stop = false;
    const finishOldest = async () => {
      const oldest = running.shift();
      if (oldest === undefined) return;
      const { result, batch } = oldest;
      const outcome = await result;
      const record = deps.timeline.finished(batch.shape[0], outcome.finishedAt);
      globalStep += 1;
      cursor = nextCursor(batch);
      firstLoss ??= outcome.loss;
      lastLoss = outcome.loss;
      lastMeanLoss = outcome.meanLoss ?? null;
      allReduceSeconds += outcome.allReduceSeconds ?? 0;
      deps.metrics?.recordStep(record, outcome.loss, deps.timeline.idleRatio);
      if (outcome.allReduceSeconds !== undefined) deps.metrics?.recordAllReduce(outcome.allReduceSeconds);
      deps.onStep?.({
        epoch: batch.epoch,
        step: batch.step,
        stepsInEpoch: batch.stepsInEpoch,
        globalStep,
        loss: outcome.loss,
        dice: outcome.dice ?? null,
        record,
        sampleIndices: batch.samples.map((sample) => sample.index),
        idleRatio: deps.timeline.idleRatio,
      });
      reporter.maybeReport(cursor, outcome.loss);
      const checkpointDue = isCheckpointStep(globalStep);
      const validationDue = isValidationStep(globalStep);
      if (checkpointDue && deps.saveCheckpoint) await deps.saveCheckpoint(cursor, globalStep);
      if (validationDue && deps.evaluator) {
        validationDice = await validate(options, deps, deps.evaluator);
        deps.metrics?.recordValidation(validationDice);
        deps.log.info({ globalStep, dice: validationDice }, 'validation on held-out series');
      }
      if (checkpointDue || validationDue) deps.timeline.excludePause();
      if (stepLimitReached() || deps.signal?.aborted) stop = true;
    };
    try {
      while (!stop) {
        deps.timeline.waitForBatch();
        const next = await iterator.next();
        if (next.done) break;
        deps.timeline.batchReady();
        received += 1;
        // With an asynchronous device this runs while the previous step is still on it.
        const prepared = deps.runner.prepare(next.value);
        // Queue this step behind the running one only where nothing must see the weights in between: a
        // checkpoint or a validation after the running step needs them before this step's update.
        const stepsAfterRunning = globalStep + running.length;
        const mayQueue =
          deps.runner.overlapsHost &&
          running.length < 2 &&
          !isCheckpointStep(stepsAfterRunning) &&
          !isValidationStep(stepsAfterRunning) &&
          !(options.maxSteps > 0 && stepsAfterRunning >= options.maxSteps);
        if (!mayQueue) {
          while (running.length > 0 && !stop) await finishOldest();
        }
        if (stop) {
          deps.runner.discard?.(prepared);
          break;
        }
        deps.timeline.launched();
        running.push({ result: deps.runner.execute(prepared), batch: next.value });
        if (!deps.runner.overlapsHost) await finishOldest();
        else if (running.length > 1) await finishOldest();
      }
      while (running.length > 0) await finishOldest();
    } finally {
      await iterator.return?.();
    }
    // The cursor follows each batch (nextCursor), so it already points past a finished epoch. A stream that ends
    // without a batch would loop forever: that is a server bug, not something to retry.
    if (received === 0 && !deps.signal?.aborted) {
      throw new Error(`the server sent no batch for epoch ${cursor.epoch} from step ${cursor.step}`);
    }
  }
  if (deps.saveCheckpoint && globalStep > deps.start.globalStep)
    await deps.saveCheckpoint(cursor, globalStep);
  await reporter.flush(cursor, lastLoss ?? 0);
  const totals = deps.timeline.total;
  return {
    steps: totals.steps,
    samples: totals.samples,
    firstLoss,
    lastLoss,
    lastMeanLoss,
    allReduceSeconds,
    idleRatio: deps.timeline.idleRatio,
    gpuIdleSeconds: totals.gpuIdleSeconds,
    stepSeconds: totals.stepSeconds,
    dataWaitSeconds: totals.dataWaitSeconds,
    validationDice,
    cursor,
    globalStep,
    seconds: deps.now() - started,
  };
}

/** After a batch: the next step of its epoch, or step 0 of the next epoch. */
function nextCursor(batch: FeedBatch): DataCursor {
  return batch.step + 1 >= batch.stepsInEpoch
    ? { epoch: batch.epoch + 1, step: 0 }
    : { epoch: batch.epoch, step: batch.step + 1 };
}

/** Mean Dice over centred crops of the held-out series (the same crops every time: seed 0, epoch 0). */
async function validate<Prepared>(
  options: TrainLoopOptions,
  deps: TrainLoopDeps<Prepared>,
  evaluator: BatchEvaluator,
): Promise<number> {
  const scores: number[] = [];
  const stream = deps.feed.streamBatches({
    dataset: options.dataset,
    seed: 0,
    epoch: 0,
    rank: 0,
    worldSize: 1,
    batchSize: options.batchSize,
    cropSize: options.cropSize,
    dtype: 'uint8',
    includeMask: true,
    sampling: { centerProb: 1, jitterProb: 0, negativeProb: 0 },
    split: { holdoutFraction: options.holdoutFraction, part: 'holdout' },
    maxSteps: options.maxValidationBatches,
  });
  const seen = new Set<number>();
  for await (const batch of stream) {
    const dice = await evaluator.evaluate(batch);
    // Positions past the end of the epoch wrap around to items already scored; count each item once.
    dice.forEach((value, i) => {
      const item = batch.samples[i]!.item;
      if (!seen.has(item)) scores.push(value);
      seen.add(item);
    });
  }
  return scores.length === 0 ? 0 : scores.reduce((sum, value) => sum + value, 0) / scores.length;
}

function createReporter<Prepared>(options: TrainLoopOptions, deps: TrainLoopDeps<Prepared>) {
  let lastReportAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | null = null;
  let warned = false;
  const send = (cursor: DataCursor, loss: number) => {
    const totals = deps.timeline.total;
    inFlight = deps.feed
      .reportTrainerStats({
        job: options.job,
        rank: options.rank,
        worldSize: options.worldSize,
        step: totals.steps,
        gpuIdleSeconds: totals.gpuIdleSeconds,
        stepSeconds: totals.stepSeconds,
        dataWaitSeconds: totals.dataWaitSeconds,
        samples: totals.samples,
        epoch: cursor.epoch,
        loss,
        backend: options.backend,
      })
      .catch((error: unknown) => {
        if (!warned)
          deps.log.warn(
            { err: String(error) },
            'could not report trainer stats to the server; training goes on',
          );
        warned = true;
      })
      .finally(() => {
        inFlight = null;
      });
  };
  return {
    maybeReport(cursor: DataCursor, loss: number): void {
      const now = deps.now();
      if (inFlight !== null || (now - lastReportAt) * 1000 < options.reportEveryMs) return;
      lastReportAt = now;
      send(cursor, loss);
    },
    async flush(cursor: DataCursor, loss: number): Promise<void> {
      if (inFlight !== null) await inFlight;
      send(cursor, loss);
      await inFlight;
    },
  };
}
