/**
 * Where a trainer's device time goes, step by step. The device is idle from the end of step k's work to the
 * launch of step k+1, and busy from a launch to its finish. Data wait is the part of the idle time spent
 * waiting for the next batch after the device had finished (a batch that arrives while the device is still busy
 * costs nothing). The first step's idle time is start-up, not starvation, and is not counted.
 *
 * Calls may interleave as a pipelined loop does (wait for and prepare batch k+1 while step k runs, then finish
 * step k, then launch k+1), or come one after another. Pure bookkeeping with an injected clock (seconds).
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

interface Launch {
  readonly launchedAt: number;
  readonly waitStartedAt: number;
  readonly readyAt: number;
}

export class StepTimeline {
  private waitStartedAt: number | null = null;
  private readyAt: number | null = null;
  /** Steps launched and not finished yet, oldest first: a device queue may hold the next step already. */
  private readonly launches: Launch[] = [];
  private lastFinishedAt: number | null = null;
  private totals = { steps: 0, samples: 0, gpuIdleSeconds: 0, stepSeconds: 0, dataWaitSeconds: 0 };

  constructor(private readonly now: () => number) {}

  /** The loop starts waiting for the next batch. */
  waitForBatch(): void {
    this.waitStartedAt = this.now();
    this.readyAt = null;
  }

  /** The batch is there. */
  batchReady(): void {
    this.readyAt = this.now();
  }

  /** The device's work for the next step is launched (it may queue behind a step still running). */
  launched(): void {
    const at = this.now();
    this.launches.push({
      launchedAt: at,
      waitStartedAt: this.waitStartedAt ?? at,
      readyAt: this.readyAt ?? at,
    });
    this.waitStartedAt = null;
    this.readyAt = null;
  }

  /**
   * The oldest launched step has finished, at `at` if the device knows when (else now); returns what it cost.
   * It ran from its launch or the end of the step before it, whichever came last.
   */
  finished(samples: number, at: number = this.now()): StepRecord {
    const launch = this.launches.shift();
    if (launch === undefined) throw new Error('StepTimeline.finished() called before launched()');
    const previous = this.lastFinishedAt;
    const startedAt = previous === null ? launch.launchedAt : Math.max(launch.launchedAt, previous);
    const record: StepRecord = {
      idleSeconds: previous === null ? 0 : Math.max(0, launch.launchedAt - previous),
      computeSeconds: Math.max(0, at - startedAt),
      dataWaitSeconds:
        previous === null
          ? 0
          : Math.max(
              0,
              Math.min(launch.readyAt, launch.launchedAt) - Math.max(launch.waitStartedAt, previous),
            ),
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
    return record;
  }

  /** Marks a pause that is not starvation (validation, checkpointing): the next idle period starts now. */
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
