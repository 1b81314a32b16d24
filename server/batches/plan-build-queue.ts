import type { PlanSteps } from '../sampling/plan-steps.js';

export interface PlanBuildQueueOptions {
  /** The longest run of plan work before the event loop serves other work again (default 4 ms). */
  readonly sliceMs?: number;
  /**
   * Large builds in progress at once (default 2); later ones wait, so builds in flight hold bounded memory.
   * Small builds (at most SMALL_BUILD_ITEMS items) start at once, beside them.
   */
  readonly concurrentBuilds?: number;
}

/**
 * A build of at most this many items (0.5 MiB of work arrays) starts at once instead of queueing behind large
 * ones: a stream asking for an ordinary epoch must not wait seconds for million-item builds asked for before.
 */
export const SMALL_BUILD_ITEMS = 65_536;

/** A build in progress: `step` runs one step and says whether the build has ended (settled). */
interface Build {
  step(): boolean;
}

/**
 * Runs plan builds (PlanSteps) on the event loop a slice at a time: a turn runs steps of the builds in
 * progress, one step each in turn, for at most `sliceMs`, then yields with setImmediate, so the I/O and
 * timers of every stream run between slices. A million-item plan then delays other streams by a slice, not
 * by its whole build (seconds), however many such plans are asked for at once; in exchange a build takes a
 * little longer than when run at once.
 */
export class PlanBuildQueue {
  private readonly sliceMs: number;
  private readonly concurrentBuilds: number;
  private readonly waiting: Build[] = [];
  private readonly running: Build[] = [];
  /** Small builds in progress: not counted against `concurrentBuilds`. */
  private readonly small: Build[] = [];
  private scheduled = false;

  constructor(options: PlanBuildQueueOptions = {}) {
    this.sliceMs = options.sliceMs ?? 4;
    this.concurrentBuilds = options.concurrentBuilds ?? 2;
  }

  /**
   * The result of `steps` once every step has run; rejects with what a step threw. `items`: the plan's size,
   * which decides whether the build waits for a slot (large) or starts at once (small).
   */
  run<T>(steps: PlanSteps<T>, items: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      (items <= SMALL_BUILD_ITEMS ? this.small : this.waiting).push({
        step: () => {
          try {
            const next = steps.next();
            if (next.done !== true) return false;
            resolve(next.value);
          } catch (error) {
            reject(error);
          }
          return true;
        },
      });
      this.schedule();
    });
  }

  /** Builds waiting or in progress. */
  get pending(): number {
    return this.waiting.length + this.running.length + this.small.length;
  }

  private schedule(): void {
    if (this.scheduled || this.pending === 0) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    const started = performance.now();
    do {
      while (this.running.length < this.concurrentBuilds && this.waiting.length > 0) {
        this.running.push(this.waiting.shift()!);
      }
      for (const builds of [this.small, this.running]) {
        for (const build of [...builds]) {
          if (build.step()) builds.splice(builds.indexOf(build), 1);
        }
      }
    } while (this.pending > 0 && performance.now() - started < this.sliceMs);
    this.schedule();
  }
}
