/**
 * A long plan computation cut into small steps: each `next()` does a bounded amount of work (well under a
 * millisecond) and the generator returns its result at the end. The core never decides when to pause, since
 * it reads no clock; the server drives these steps between other work so that a million-item plan never holds
 * the event loop, and tests and tools run them to the end at once with `runPlanSteps`.
 */
export type PlanSteps<T> = Generator<void, T, void>;

/** Runs every step at once and returns the result. */
export function runPlanSteps<T>(steps: PlanSteps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}
