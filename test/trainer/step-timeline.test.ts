import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StepTimeline } from '../../trainer/stats/step-timeline.js';

/** A clock the test moves by hand. */
function fakeClock() {
  let t = 100;
  return { now: () => t, advance: (seconds: number) => (t += seconds) };
}

describe('StepTimeline', () => {
  it('counts idle time from the end of one step to the launch of the next, data wait included', () => {
    const clock = fakeClock();
    const timeline = new StepTimeline(clock.now);
    timeline.waitForBatch();
    clock.advance(5); // start-up: not counted
    timeline.batchReady();
    timeline.launched();
    clock.advance(0.02);
    const first = timeline.finished(8);
    assert.equal(first.idleSeconds, 0);
    assert.equal(first.dataWaitSeconds, 0);
    assert.ok(Math.abs(first.computeSeconds - 0.02) < 1e-9);
    assert.equal(first.samples, 8);

    timeline.waitForBatch();
    clock.advance(0.003); // starved for 3 ms
    timeline.batchReady();
    clock.advance(0.001); // 1 ms to build input tensors
    timeline.launched();
    clock.advance(0.02);
    const second = timeline.finished(8);
    assert.ok(Math.abs(second.idleSeconds - 0.004) < 1e-9, `idle ${second.idleSeconds}`);
    assert.ok(Math.abs(second.dataWaitSeconds - 0.003) < 1e-9, `data wait ${second.dataWaitSeconds}`);
    assert.ok(Math.abs(second.computeSeconds - 0.02) < 1e-9);

    const total = timeline.total;
    assert.equal(total.steps, 2);
    assert.equal(total.samples, 16);
    assert.ok(Math.abs(total.gpuIdleSeconds - 0.004) < 1e-9);
    assert.ok(Math.abs(timeline.idleRatio - 0.004 / 0.044) < 1e-9);
  });

  it('reports no idle time when the next batch is always ready', () => {
    const clock = fakeClock();
    const timeline = new StepTimeline(clock.now);
    for (let step = 0; step < 10; step++) {
      timeline.waitForBatch();
      timeline.batchReady();
      timeline.launched();
      clock.advance(0.02);
      timeline.finished(4);
    }
    assert.equal(timeline.total.gpuIdleSeconds, 0);
    assert.equal(timeline.idleRatio, 0);
  });

  it('leaves pauses such as validation out of idle time', () => {
    const clock = fakeClock();
    const timeline = new StepTimeline(clock.now);
    timeline.launched();
    clock.advance(0.01);
    timeline.finished(1);
    clock.advance(30); // validation
    timeline.excludePause();
    timeline.waitForBatch();
    clock.advance(0.002);
    timeline.batchReady();
    timeline.launched();
    clock.advance(0.01);
    assert.ok(Math.abs(timeline.finished(1).idleSeconds - 0.002) < 1e-9);
  });

  it('refuses to finish a step that was never launched', () => {
    assert.throws(() => new StepTimeline(() => 0).finished(1), /before launched/);
  });
});

describe('StepTimeline in a pipelined loop', () => {
  it('counts nothing as idle when the next batch is prepared while the device runs', () => {
    const clock = fakeClock();
    const timeline = new StepTimeline(clock.now);
    timeline.launched(); // step 0
    const finishAt = clock.now() + 0.02;
    timeline.waitForBatch();
    clock.advance(0.005); // batch 1 arrives while step 0 runs
    timeline.batchReady();
    clock.advance(0.003); // and is prepared
    clock.advance(0.012); // the loop then waits for step 0, which ends at finishAt
    timeline.finished(8, finishAt);
    timeline.launched(); // step 1 launched the moment step 0 ends
    clock.advance(0.02);
    const step1 = timeline.finished(8);
    assert.equal(step1.idleSeconds, 0);
    assert.equal(step1.dataWaitSeconds, 0);
  });

  it('counts as data wait only the part of the wait after the device had finished', () => {
    const clock = fakeClock();
    const timeline = new StepTimeline(clock.now);
    timeline.launched();
    const finishAt = clock.now() + 0.02;
    timeline.waitForBatch();
    clock.advance(0.03); // the batch comes 10 ms after the device finished
    timeline.batchReady();
    timeline.finished(8, finishAt);
    clock.advance(0.002); // preparing it
    timeline.launched();
    clock.advance(0.02);
    const step1 = timeline.finished(8);
    assert.ok(Math.abs(step1.dataWaitSeconds - 0.01) < 1e-9, `data wait ${step1.dataWaitSeconds}`);
    assert.ok(Math.abs(step1.idleSeconds - 0.012) < 1e-9, `idle ${step1.idleSeconds}`);
  });
});

describe('StepTimeline with a device queue', () => {
  it('counts no idle time for a step launched while the one before still runs, and times it from that end', () => {
    const clock = fakeClock();
    const timeline = new StepTimeline(clock.now);
    timeline.launched(); // step 0 at t
    const end0 = clock.now() + 0.02;
    clock.advance(0.005);
    timeline.launched(); // step 1 queued behind it
    clock.advance(0.02);
    timeline.finished(8, end0);
    clock.advance(0.02);
    const step1 = timeline.finished(8, end0 + 0.02);
    assert.equal(step1.idleSeconds, 0);
    assert.ok(Math.abs(step1.computeSeconds - 0.02) < 1e-9, `compute ${step1.computeSeconds}`);
  });
});
