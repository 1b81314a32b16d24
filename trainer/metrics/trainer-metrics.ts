import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StepRecord } from '../stats/step-timeline.js';

/** Buckets from 1 ms to 60 s: a step of a tiny CPU model takes ms, a V-Net step on a big batch seconds. */
const STEP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Data wait is mostly zero; the interesting part is 100 us to a few seconds. */
const WAIT_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/**
 * The trainer's Prometheus series, labelled by job and rank so the series of every rank can be summed or
 * compared in one query. The registry is the trainer's own (served on --metrics-port), not prom-client's global.
 */
export class TrainerMetrics {
  readonly registry = new Registry();
  private readonly idle: Counter<'job' | 'rank'>;
  private readonly busy: Counter<'job' | 'rank'>;
  private readonly stepSeconds: Histogram<'job' | 'rank'>;
  private readonly dataWait: Histogram<'job' | 'rank'>;
  private readonly samples: Counter<'job' | 'rank'>;
  private readonly steps: Counter<'job' | 'rank'>;
  private readonly loss: Gauge<'job' | 'rank'>;
  private readonly idleRatio: Gauge<'job' | 'rank'>;
  private readonly validationDice: Gauge<'job' | 'rank'>;
  private readonly allReduce: Histogram<'job' | 'rank'>;
  private readonly labels: { job: string; rank: string };

  constructor(job: string, rank: number) {
    this.labels = { job, rank: String(rank) };
    const registers = [this.registry];
    const labelNames = ['job', 'rank'] as const;
    this.idle = new Counter({
      name: 'voxelfeed_trainer_gpu_idle_seconds_total',
      help: 'Seconds the device waited for input: from the end of one step to the launch of the next.',
      labelNames,
      registers,
    });
    this.busy = new Counter({
      name: 'voxelfeed_trainer_busy_seconds_total',
      help: 'Seconds the device spent on training steps, launch to finish (the same name the server re-exports).',
      labelNames,
      registers,
    });
    this.stepSeconds = new Histogram({
      name: 'voxelfeed_trainer_step_seconds',
      help: 'Device time of one training step, launch to finish.',
      labelNames,
      buckets: STEP_BUCKETS,
      registers,
    });
    this.dataWait = new Histogram({
      name: 'voxelfeed_trainer_data_wait_seconds',
      help: 'Time the training loop blocked waiting for its next batch.',
      labelNames,
      buckets: WAIT_BUCKETS,
      registers,
    });
    this.samples = new Counter({
      name: 'voxelfeed_trainer_samples_total',
      help: 'Samples trained on.',
      labelNames,
      registers,
    });
    this.steps = new Counter({
      name: 'voxelfeed_trainer_steps_total',
      help: 'Training steps done.',
      labelNames,
      registers,
    });
    this.loss = new Gauge({
      name: 'voxelfeed_trainer_loss',
      help: 'Loss of the latest step.',
      labelNames,
      registers,
    });
    this.idleRatio = new Gauge({
      name: 'voxelfeed_trainer_gpu_idle_ratio',
      help: 'Share of device time spent idle since the trainer started: idle / (idle + busy).',
      labelNames,
      registers,
    });
    this.validationDice = new Gauge({
      name: 'voxelfeed_trainer_validation_dice',
      help: 'Mean Dice of the latest validation on held-out series.',
      labelNames,
      registers,
    });
    this.allReduce = new Histogram({
      name: 'voxelfeed_trainer_allreduce_seconds',
      help: 'Time one step spent averaging its gradients with the other ranks, waiting plus transfer (_sum: seconds in all; only with several ranks).',
      labelNames,
      buckets: STEP_BUCKETS,
      registers,
    });
  }

  recordStep(step: StepRecord, loss: number, idleRatio: number): void {
    this.idle.inc(this.labels, step.idleSeconds);
    this.busy.inc(this.labels, step.computeSeconds);
    this.stepSeconds.observe(this.labels, step.computeSeconds);
    this.dataWait.observe(this.labels, step.dataWaitSeconds);
    this.samples.inc(this.labels, step.samples);
    this.steps.inc(this.labels);
    if (Number.isFinite(loss)) this.loss.set(this.labels, loss);
    this.idleRatio.set(this.labels, idleRatio);
  }

  /** One step's gradient exchange with the other ranks. */
  recordAllReduce(seconds: number): void {
    this.allReduce.observe(this.labels, seconds);
  }

  recordValidation(dice: number): void {
    this.validationDice.set(this.labels, dice);
  }
}
