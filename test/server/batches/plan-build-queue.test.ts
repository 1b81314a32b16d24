import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlanBuildQueue, SMALL_BUILD_ITEMS } from '../../../server/batches/plan-build-queue.js';
import type { PlanSteps } from '../../../server/sampling/plan-steps.js';

/** An item count that makes a build large: it waits for one of the `concurrentBuilds` slots. */
const LARGE = SMALL_BUILD_ITEMS + 1;

/** A build of `count` steps that records when it runs, then returns `value` (or throws `error`). */
function* build(name: string, count: number, log: string[], value: number, error?: Error): PlanSteps<number> {
  for (let i = 0; i < count; i++) {
    log.push(name);
    yield;
  }
  if (error !== undefined) throw error;
  return value;
}

describe('PlanBuildQueue', () => {
  it('runs every build to its result, and a failing build rejects alone', async () => {
    const queue = new PlanBuildQueue();
    const log: string[] = [];
    const failure = new Error('no items');
    const results = await Promise.allSettled([
      queue.run(build('a', 5, log, 1), LARGE),
      queue.run(build('b', 3, log, 2, failure), LARGE),
      queue.run(build('c', 4, log, 3), LARGE),
    ]);
    assert.deepEqual(results, [
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: failure },
      { status: 'fulfilled', value: 3 },
    ]);
    assert.equal(queue.pending, 0);
  });

  it('interleaves at most `concurrentBuilds` builds, in the order they were asked for', async () => {
    const queue = new PlanBuildQueue({ concurrentBuilds: 2 });
    const log: string[] = [];
    await Promise.all(['a', 'b', 'c'].map((name) => queue.run(build(name, 3, log, 0), LARGE)));
    // a and b take turns; c starts only when one of them has ended.
    assert.deepEqual(log, ['a', 'b', 'a', 'b', 'a', 'b', 'c', 'c', 'c']);
  });

  it('starts a small build at once, beside large builds that hold every slot', async () => {
    const queue = new PlanBuildQueue({ concurrentBuilds: 2 });
    const log: string[] = [];
    await Promise.all([
      ...['a', 'b', 'c'].map((name) => queue.run(build(name, 3, log, 0), LARGE)),
      queue.run(build('s', 2, log, 0), SMALL_BUILD_ITEMS),
    ]);
    // s runs from the first turn on, not after c.
    assert.deepEqual(log.slice(0, 6), ['s', 'a', 'b', 's', 'a', 'b']);
    assert.equal(log.filter((name) => name === 's').length, 2);
  });

  it('returns to the event loop between slices, so timers fire during a long build', async () => {
    const queue = new PlanBuildQueue({ sliceMs: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      // Steps of ~0.2 ms each for well over 100 ms in all.
      function* slow(): PlanSteps<number> {
        const started = performance.now();
        let spins = 0;
        while (performance.now() - started < 150) {
          const step = performance.now();
          while (performance.now() - step < 0.2) spins++;
          yield;
        }
        return spins;
      }
      await queue.run(slow(), LARGE);
      assert.ok(ticks >= 5, `${ticks} timer ticks during the build`);
    } finally {
      clearInterval(timer);
    }
  });
});
