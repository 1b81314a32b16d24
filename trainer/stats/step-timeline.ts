/**
 * Where a trainer's time goes, step by step. A step's life: wait for its batch (data wait), prepare its input
 * tensors, launch the device's work, and the work finishing. The device is idle from the end of step k's work to
 * the launch of step k+1 (data wait and input preparation included), and busy from a launch to its finish.
 * The first step's idle time is start-up, not starvation, and is not counted.
 *
 * Pure bookkeeping with an injected clock (seconds), so tests drive it with a fake one.
 */
export interface StepTotals {
  readonly steps: number;
  readonly samples: number;
  readonly gpuIdleSeconds: number;
  readonly stepSeconds: number;
  readonly dataWaitSeconds: number;
}

export interface StepRecord {
  readonly idleSeconds: number;
  readonly computeSeconds: number;
  readonly dataWaitSeconds: number;
  readonly samples: number;
}

export class StepTimeline {
  private waitStartedAt: number | null = null;
  private dataWait = 0;
  private launchedAt: number | null = null;
  private lastFinishedAt: number | null = null;
  private pendingIdle = 0;
  private totals = { steps: 0, samples: 0, gpuIdleSeconds: 0, stepSeconds: 0, dataWaitSeconds: 0 };

  constructor(private readonly now: () => number) {}

  /** The loop starts waiting for the next batch. */
  waitForBatch(): void {
    this.waitStartedAt = this.now();
  }

  /** The batch is there (the wait since `waitForBatch` was data wait). */
  batchReady(): void {
    this.dataWait = this.waitStartedAt === null ? 0 : this.now() - this.waitStartedAt;
    this.waitStartedAt = null;
  }

  /** The device's work for this step is launched. */
  launched(): void {
    const at = this.now();
    this.pendingIdle = this.lastFinishedAt === null ? 0 : at - this.lastFinishedAt;
    this.launchedAt = at;
  }

  /** The device's work for this step has finished; returns what this step cost. */
  finished(samples: number): StepRecord {
    const at = this.now();
    if (this.launchedAt === null) throw new Error('StepTimeline.finished() called before launched()');
    const record: StepRecord = {
      idleSeconds: this.pendingIdle,
      computeSeconds: at - this.launchedAt,
      dataWaitSeconds: this.lastFinishedAt === null ? 0 : this.dataWait,
      samples,
    };
    this.totals = {
      steps: this.totals.steps + 1,
      samples: this.totals.samples + samples,
      gpuIdleSeconds: this.totals.gpuIdleSeconds + record.idleSeconds,
      stepSeconds: this.totals.stepSeconds + record.computeSeconds,
      dataWaitSeconds: this.totals.dataWaitSeconds + record.dataWaitSeconds,
    };
    this.lastFinishedAt = at;
    this.launchedAt = null;
    this.dataWait = 0;
    return record;
  }

  /**
   * Marks a pause that is not starvation (validation, checkpointing): the device's next idle period starts now.
   */
  excludePause(): void {
    if (this.lastFinishedAt !== null) this.lastFinishedAt = this.now();
  }

  get total(): StepTotals {
    return this.totals;
  }

  /** Idle share of device time so far: idle / (idle + busy); 0 before two steps. */
  get idleRatio(): number {
    const busy = this.totals.gpuIdleSeconds + this.totals.stepSeconds;
    return busy === 0 ? 0 : this.totals.gpuIdleSeconds / busy;
  }
}
