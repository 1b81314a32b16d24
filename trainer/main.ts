import * as tf from '@tensorflow/tfjs-core';
import { createFeedClient } from '@voxelfeed/client';
import { errorChain } from '@voxelfeed/common/error-chain.js';
import { formatHostPort } from '@voxelfeed/common/listen-failure.js';
import { serveMetrics } from '@voxelfeed/common/serve-metrics.js';
import { selectBackend } from './backend/select-backend.js';
import { agreeStartState } from './checkpoint/agree-start-state.js';
import { loadLatestCheckpoint, saveCheckpoint } from './checkpoint/checkpoint-store.js';
import {
  readModelState,
  readOptimizerState,
  writeModelState,
  writeOptimizerState,
} from './checkpoint/model-state.js';
import { weightsSha256 } from './checkpoint/weights-sha256.js';
import type { ProcessGroup } from './collective/process-group.js';
import { metricsEndpoint } from './config/metrics-endpoint.js';
import { type FeedSecurity, readFeedSecurity } from './config/read-feed-security.js';
import { parseTrainConfig, TRAIN_HELP, type TrainConfig, type TrainLogLevel } from './config/train-config.js';
import { feedFailure } from './feed-failure.js';
import { joinRanks } from './loop/join-ranks.js';
import { TfjsStepRunner } from './loop/tfjs-step-runner.js';
import { runTrainLoop, type StepEvent, type TrainSummary } from './loop/train-loop.js';
import { TrainerMetrics } from './metrics/trainer-metrics.js';
import { createVNet } from './model/vnet.js';
import { VNET_PAPER, VNET_TINY } from './model/vnet-config.js';
import { StepTimeline } from './stats/step-timeline.js';

/**
 * The composition root of `voxelfeed train`: reads the config, picks the TensorFlow.js backend, builds the
 * model, optimizer, feed client, metrics and checkpoint store, restores a checkpoint if asked, runs the loop,
 * and prints one JSON summary line on stdout.
 */
export async function runTrain(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const parsed = parseTrainConfig(argv, env, (line) => process.stderr.write(`voxelfeed train: ${line}\n`));
  if (parsed === 'help') {
    process.stdout.write(`${TRAIN_HELP}\n`);
    return 0;
  }
  const log = stderrLog(parsed);
  let summary: Awaited<ReturnType<typeof train>>;
  try {
    summary = await train(parsed, { log });
  } catch (error) {
    const line = feedFailure(error, parsed.servers, parsed.reconnectAttempts);
    if (line === null) throw error;
    // The console gets one line (printed by the CLI); grpc-js's nested reasons and the stacks are here.
    log.debug({ error: errorChain(error) }, `training stopped: ${line.message}`);
    throw line;
  }
  process.stdout.write(
    `${JSON.stringify(summaryJson(parsed, summary.summary, summary.backend, summary.weightsSha256))}\n`,
  );
  return 0;
}

export interface TrainLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Trains as configured; `onStep` sees every step (tests, the demo's progress bar). */
export async function train(
  config: TrainConfig,
  options: { log: TrainLog; onStep?: (event: StepEvent) => void; signal?: AbortSignal },
): Promise<{ summary: TrainSummary; backend: string; weightsSha256: string; metricsPort: number | null }> {
  const { log } = options;
  // First: a bad certificate or token file should stop the trainer before a backend or model is built.
  const security = await readFeedSecurity(config);
  if (security.summary.tls !== 'off' || security.summary.tokenFingerprint !== null) {
    log.info(
      security.summary,
      'connecting with the configured TLS and token (the log shows a fingerprint only)',
    );
  }
  const metrics = new TrainerMetrics(config.job, config.rank);
  // Before the backend and the model (seconds to minutes): a port in use stops this rank at once.
  const metricsHttp =
    config.metricsPort === null
      ? null
      : await serveMetrics(metrics.registry, metricsEndpoint({ ...config, metricsPort: config.metricsPort }));
  if (metricsHttp)
    log.info(
      { port: metricsHttp.port },
      `metrics on http://${formatHostPort(config.metricsHost, metricsHttp.port)}/metrics`,
    );
  try {
    const trained = await trainServingMetrics(config, options, security, metrics);
    return { ...trained, metricsPort: metricsHttp?.port ?? null };
  } finally {
    await metricsHttp?.close();
  }
}

/** `train` once its metrics are served: backend, model, feed client, checkpoint and the loop. */
async function trainServingMetrics(
  config: TrainConfig,
  options: { log: TrainLog; onStep?: (event: StepEvent) => void; signal?: AbortSignal },
  security: FeedSecurity,
  metrics: TrainerMetrics,
): Promise<{ summary: TrainSummary; backend: string; weightsSha256: string }> {
  const { log } = options;
  const backend = await selectBackend(config.backend, (message) => log.info({}, message));
  if (!backend.gpu && config.model === 'vnet') {
    log.warn(
      { backend: backend.name },
      "the paper's V-Net (65 million parameters) on a backend without a GPU takes seconds to minutes per step; use --model tiny to try things out, or install @tensorflow/tfjs-node-gpu (trainer/README.md)",
    );
  }
  const preset = config.model === 'tiny' ? VNET_TINY : VNET_PAPER;
  const model = createVNet({ ...preset, seed: config.seed });
  const optimizer = tf.train.adam(config.learningRate);
  const feed = createFeedClient({
    addresses: [...config.servers],
    rankAffinity: config.rankAffinity,
    prefetch: config.prefetch,
    reconnect: { maxAttempts: config.reconnectAttempts },
    ...security.options,
  });
  const meta = {
    model: model.config,
    batchSize: config.batchSize,
    cropSize: config.cropSize,
    seed: config.seed,
    rank: config.rank,
    worldSize: config.worldSize,
    dataset: config.dataset,
    // What voxelfeed infer predicts by default: the series this run never trained on (0: it trained on all).
    holdoutFraction: config.validateEvery > 0 ? config.holdoutFraction : 0,
  };
  let group: ProcessGroup | null = null;
  try {
    // What must agree on every rank for their steps to line up and their updates to be one model's.
    const { rank: _rank, ...agreed } = meta;
    group = await joinRanks(
      config,
      security,
      {
        ...agreed,
        learningRate: config.learningRate,
        epochs: config.epochs,
        steps: config.steps,
        rankGroups: config.rankGroups,
        negativesPerEpoch: config.negativesPerEpoch,
        shuffleWindow: config.shuffleWindow,
        validateEvery: config.validateEvery,
        maxValidationBatches: config.maxValidationBatches,
      },
      options.signal,
    );
    if (group.worldSize > 1) {
      log.info(
        { worldSize: group.worldSize, master: `${config.masterAddr}:${config.masterPort}` },
        'every rank joined; gradients are averaged over the ranks every step',
      );
    }
    let own = { cursor: { epoch: 0, step: 0 }, globalStep: 0, resumed: false };
    // Only rank 0 reads the checkpoint; the others receive its state below.
    if (config.resume && config.checkpointDir && config.rank === 0) {
      const checkpoint = await loadLatestCheckpoint(config.checkpointDir);
      if (checkpoint === null) {
        log.warn({ dir: config.checkpointDir }, 'no checkpoint to resume from; starting at epoch 0, step 0');
      } else {
        checkIdentity(meta, checkpoint.meta);
        writeModelState(model, checkpoint.variables);
        await writeOptimizerState(model, optimizer, checkpoint.optimizer);
        own = { cursor: checkpoint.cursor, globalStep: checkpoint.globalStep, resumed: true };
      }
    }
    const start = await agreeStartState(group, model, optimizer, own);
    if (own.resumed || start.globalStep > 0) {
      log.info({ ...start.cursor, globalStep: start.globalStep }, 'resumed from the latest checkpoint');
    }
    const runner = new TfjsStepRunner(model, optimizer, backend.gpu, undefined, {
      group,
      firstStep: start.globalStep,
    });
    const stopLoop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stopLoop.signal]) : stopLoop.signal;
    const loop = runTrainLoop(
      {
        job: config.job,
        rank: config.rank,
        worldSize: config.worldSize,
        rankGroups: config.rankGroups,
        dataset: config.dataset,
        seed: config.seed,
        epochs: config.epochs,
        maxSteps: config.steps,
        batchSize: config.batchSize,
        cropSize: config.cropSize,
        holdoutFraction: meta.holdoutFraction,
        ...(config.negativesPerEpoch > 0 || config.shuffleWindow > 0
          ? { sampling: { negativesPerEpoch: config.negativesPerEpoch, shuffleWindow: config.shuffleWindow } }
          : {}),
        checkpointEvery: config.checkpointDir ? config.checkpointEvery : 0,
        validateEvery: config.validateEvery,
        maxValidationBatches: config.maxValidationBatches,
        reportEveryMs: config.reportEveryMs,
        backend: backend.name,
        ...(config.sharedMemory === null ? {} : { sharedMemory: config.sharedMemory }),
      },
      {
        feed,
        runner,
        evaluator: runner,
        timeline: new StepTimeline(() => performance.now() / 1000),
        metrics,
        log,
        start,
        now: () => performance.now() / 1000,
        signal,
        onStep: (event) => {
          options.onStep?.(event);
          if (config.logEvery > 0 && event.globalStep % config.logEvery === 0) {
            log.info(
              {
                epoch: event.epoch,
                step: event.step,
                loss: event.loss,
                dice: event.dice,
                idle: event.idleRatio,
              },
              `epoch ${event.epoch} step ${event.step + 1}/${event.stepsInEpoch} loss ${event.loss.toFixed(4)} dice ${event.dice?.toFixed(3) ?? '-'} gpu idle ${(100 * event.idleRatio).toFixed(1)}%`,
            );
          }
        },
        // Rank 0 alone writes checkpoints: every rank holds the same weights, and ranks need no shared storage.
        ...(config.checkpointDir && config.rank === 0
          ? {
              saveCheckpoint: async (cursor, globalStep) => {
                await saveCheckpoint(config.checkpointDir!, {
                  cursor,
                  globalStep,
                  meta,
                  variables: await readModelState(model),
                  optimizer: await readOptimizerState(model, optimizer),
                });
              },
            }
          : {}),
      },
    );
    // A lost rank stops this one at once, whatever it is waiting on (a batch, the exchange).
    let summary: TrainSummary;
    try {
      summary = await Promise.race([loop, group.failure]);
    } catch (error) {
      stopLoop.abort();
      loop.catch(() => {});
      throw error;
    }
    return {
      summary,
      backend: backend.name,
      weightsSha256: await weightsSha256(model.trainableVariables),
    };
  } finally {
    await group?.close();
    feed.close();
    model.dispose();
    optimizer.dispose();
  }
}

/** Meta keys recorded since a later version: a checkpoint written before one was added still resumes. */
const LATER_META_KEYS: ReadonlySet<string> = new Set(['holdoutFraction']);

/**
 * A checkpoint from another model, batch, crop, seed, rank layout or held-out share would not continue the
 * same run.
 */
function checkIdentity(current: Record<string, unknown>, saved: Readonly<Record<string, unknown>>): void {
  const differences = Object.keys(current).filter(
    (key) =>
      !(LATER_META_KEYS.has(key) && !Object.hasOwn(saved, key)) &&
      JSON.stringify(current[key]) !== JSON.stringify(saved[key]),
  );
  if (differences.length > 0) {
    throw new Error(
      `the checkpoint was written with other ${differences.join(', ')} (${differences.map((key) => `${JSON.stringify(saved[key])} vs ${JSON.stringify(current[key])}`).join('; ')}); use the same options or another --checkpoint-dir`,
    );
  }
}

function summaryJson(config: TrainConfig, summary: TrainSummary, backend: string, weights: string) {
  return {
    job: config.job,
    rank: config.rank,
    world_size: config.worldSize,
    backend,
    steps: summary.steps,
    samples: summary.samples,
    samples_per_s: summary.seconds > 0 ? summary.samples / summary.seconds : 0,
    loss_first: summary.firstLoss,
    loss_last: summary.lastLoss,
    // The last step's loss averaged over the ranks (null with one rank).
    loss_last_mean: summary.lastMeanLoss,
    gpu_idle_ratio: summary.idleRatio,
    gpu_idle_seconds: summary.gpuIdleSeconds,
    step_seconds: summary.stepSeconds,
    data_wait_seconds: summary.dataWaitSeconds,
    validation_dice: summary.validationDice,
    epoch: summary.cursor.epoch,
    next_step: summary.cursor.step,
    global_step: summary.globalStep,
    allreduce_seconds: summary.allReduceSeconds,
    // Of the step time (launch to finish, which includes the exchange).
    allreduce_share: summary.stepSeconds > 0 ? summary.allReduceSeconds / summary.stepSeconds : 0,
    weights_sha256: weights,
    seconds: summary.seconds,
  };
}

const LEVEL_ORDER: Readonly<Record<TrainLogLevel, number>> = { debug: 0, info: 1, warn: 2, error: 3 };

function stderrLog(config: TrainConfig): TrainLog & { debug(fields: object, message: string): void } {
  const lowest = LEVEL_ORDER[config.logLevel];
  const write = (level: TrainLogLevel, fields: object, message: string) => {
    if (LEVEL_ORDER[level] < lowest) return;
    process.stderr.write(
      `${JSON.stringify({ level, time: Date.now(), job: config.job, rank: config.rank, msg: message, ...fields })}\n`,
    );
  };
  return {
    debug: (fields, message) => write('debug', fields, message),
    info: (fields, message) => write('info', fields, message),
    warn: (fields, message) => write('warn', fields, message),
  };
}
