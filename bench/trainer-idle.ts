import { createFeedClient } from '../client/index.js';
import { spawnServer } from '../test/support/spawn-server.js';
import { SimulatedDevice } from '../trainer/loop/simulated-device.js';
import { runTrainLoop } from '../trainer/loop/train-loop.js';
import { StepTimeline } from '../trainer/stats/step-timeline.js';

export interface TrainerIdleResult {
  readonly steps: number;
  readonly samplesPerSecond: number;
  readonly idleRatio: number;
  /** Idle share after the first `warmupSteps` steps. */
  readonly steadyIdleRatio: number;
  readonly steadySteps: number;
  readonly steadyDataWaitSeconds: number;
  readonly dataWaitSeconds: number;
  readonly gpuIdleSeconds: number;
  readonly stepSeconds: number;
}

/**
 * Trainer-side GPU idle share with a simulated device: each step takes a fixed `stepMs` on a timer (no CPU),
 * so idle time is the data path alone: waiting for the batch, and turning it into float32 input. The server is
 * a separate process whose cache is warmed first (one pass over every series), so this is the steady state.
 */
export async function benchTrainerIdle(
  dir: string,
  options: {
    steps: number;
    /** Steps left out of the steady-state figures (stream start-up). */
    warmupSteps: number;
    stepMs: number;
    batchSize: number;
    crop: readonly [number, number, number];
    series: number;
  },
): Promise<TrainerIdleResult> {
  const server = await spawnServer(['--data', dir, '--cache-bytes', '2GiB', '--log-level', 'warn']);
  const feed = createFeedClient({ address: server.address, prefetch: 4 });
  try {
    // Warm the cache: small crops, every series several times as negatives.
    for await (const _ of feed.streamBatches({
      batchSize: 64,
      cropSize: [4, 4, 4],
      seed: 99,
      sampling: { negativesPerEpoch: options.series * 8 },
    })) {
      // drain
    }
    const timeline = new StepTimeline(() => performance.now() / 1000);
    // Steady state: the first steps include the stream's start (plan, first batches); leave them out.
    const steady = { idle: 0, busy: 0, dataWait: 0, steps: 0 };
    const started = performance.now();
    const summary = await runTrainLoop(
      {
        job: 'bench',
        rank: 0,
        worldSize: 1,
        dataset: '',
        seed: 1,
        epochs: 1_000_000,
        maxSteps: options.steps,
        batchSize: options.batchSize,
        cropSize: options.crop,
        holdoutFraction: 0,
        sampling: { negativesPerEpoch: options.series * 50 },
        checkpointEvery: 0,
        validateEvery: 0,
        maxValidationBatches: 0,
        reportEveryMs: 1000,
        backend: 'simulated',
      },
      {
        feed,
        runner: new SimulatedDevice(options.stepMs, () => performance.now() / 1000),
        timeline,
        log: { info: () => {}, warn: () => {} },
        start: { cursor: { epoch: 0, step: 0 }, globalStep: 0 },
        now: () => performance.now() / 1000,
        onStep: (event) => {
          if (event.globalStep <= options.warmupSteps) return;
          steady.idle += event.record.idleSeconds;
          steady.busy += event.record.computeSeconds;
          steady.dataWait += event.record.dataWaitSeconds;
          steady.steps += 1;
        },
      },
    );
    const seconds = (performance.now() - started) / 1000;
    return {
      steps: summary.steps,
      samplesPerSecond: summary.samples / seconds,
      idleRatio: summary.idleRatio,
      steadyIdleRatio: steady.idle / (steady.idle + steady.busy),
      steadySteps: steady.steps,
      steadyDataWaitSeconds: steady.dataWait,
      dataWaitSeconds: summary.dataWaitSeconds,
      gpuIdleSeconds: summary.gpuIdleSeconds,
      stepSeconds: summary.stepSeconds,
    };
  } finally {
    feed.close();
    await server.stop();
  }
}
