import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchMemory } from '../../../server/batches/batch-memory.js';
import { layOutTensorMessage, writeEncodedBatch } from '../../../server/batches/encoded-batch.js';
import { type AssembledBatch, HeldBatches } from '../../../server/batches/held-batches.js';
import { allBuffersBack } from '../../support/all-buffers-back.js';
import { cancelMidStream } from '../../support/cancel-mid-stream.js';
import { heldBatchesRecorder } from '../../support/held-batches-recorder.js';

const IMAGE_BYTES = 3000;
const LAYOUT = layOutTensorMessage(
  Uint8Array.of(8, 1),
  { image: 6, mask: 7, padding: 12 },
  IMAGE_BYTES,
  0,
  null,
);

/** A stream's held batches over real batch memory, with what its observer was told. */
function stream(prefetchBatches: number) {
  const memory = new BatchMemory({ budgetBytes: 1 << 24, idleReleaseMs: 0 });
  const { observer, held: heldCounts, sent } = heldBatchesRecorder('s');
  const held = new HeldBatches({ prefetchBatches, batchMemory: memory, streamId: 's', observer });
  return { memory, held, heldCounts, sent };
}

/** Jobs 0..count-1, counting how many the producer has taken. */
function countedJobs(count: number) {
  const taken = { count: 0 };
  function* jobs(): Generator<number, void, undefined> {
    for (let job = 0; job < count; job++) {
      taken.count += 1;
      yield job;
    }
  }
  return { jobs: jobs(), taken };
}

/**
 * Every buffer the tests take, kept referenced: batch memory forgets a buffer the garbage collector takes, so
 * one never given back could otherwise be missed.
 */
const keptBuffers: Buffer[] = [];

/** A message whose image bytes all hold `job`, in a buffer of `held`'s batch memory; `fails` rejects instead. */
function assembler(held: HeldBatches, signal: AbortSignal, fails?: number) {
  return async (job: number): Promise<AssembledBatch> => {
    if (job === fails) throw new Error(`job ${job} failed`);
    const backing = await held.buffers.acquire(LAYOUT.backingBytes, signal);
    keptBuffers.push(backing);
    const batch = writeEncodedBatch(LAYOUT, backing);
    batch.image.fill(job);
    return { batch, timings: { waitVolumes: 0, crop: 0, encode: 0 } };
  };
}

function work(
  held: HeldBatches,
  signal: AbortSignal,
  jobs: Iterator<number, unknown, undefined>,
  fails?: number,
) {
  return {
    jobs,
    assemble: assembler(held, signal, fails),
    samples: (job: number) => job + 1,
    describe: (job: number, { batch }: AssembledBatch) => ({ job, first: batch.image[0] }),
  };
}

describe('HeldBatches', { timeout: 30_000 }, () => {
  it('hands out every job in order, preparing at most prefetchBatches ahead of the one held', async () => {
    const { memory, held, heldCounts, sent } = stream(2);
    const { jobs, taken } = countedJobs(8);
    const signal = new AbortController().signal;
    const seen: number[] = [];
    for await (const ready of held.prefetch(signal, work(held, signal, jobs))) {
      assert.equal(ready.first, ready.job, 'the message assembled for the job');
      assert.ok(taken.count <= ready.job + 3, `${taken.count} jobs taken while holding job ${ready.job}`);
      if (ready.job === 0) assert.equal(taken.count, 3, 'the held message and 2 ahead');
      seen.push(ready.job);
      ready.release();
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.ok(Math.max(...heldCounts) <= 3, `held ${heldCounts.join(', ')}`);
    assert.equal(heldCounts.at(-1), 0, 'every message released');
    assert.deepEqual(
      sent.map((batch) => batch.samples),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.ok(sent.every((batch) => batch.bytes > IMAGE_BYTES));
    assert.equal(memory.stats().inUseBytes, 0);
  });

  it('counts a second release once, and a release after abandon gives the buffer back to no one', async () => {
    const { memory, held, heldCounts } = stream(0);
    const signal = new AbortController().signal;
    const messages = held.prefetch(signal, work(held, signal, countedJobs(2).jobs));
    const first = await messages.next();
    assert.ok(!first.done);
    first.value.release();
    first.value.release();
    assert.deepEqual(heldCounts, [1, 0]);
    const freeAfterRelease = memory.stats().freeBytes;
    assert.ok(freeAfterRelease > 0);
    const second = await messages.next();
    assert.ok(!second.done);
    second.value.abandon();
    second.value.release();
    assert.deepEqual(heldCounts, [1, 0, 1, 0]);
    assert.equal(memory.stats().inUseBytes, 0);
    // The free buffer went to the second message, which was abandoned: none is free for reuse now.
    assert.equal(memory.stats().freeBytes, 0);
    assert.equal((await messages.next()).done, true);
  });

  it('ends with a failing job and gives back the buffers of the messages prepared ahead', async () => {
    const { memory, held } = stream(3);
    const signal = new AbortController().signal;
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const ready of held.prefetch(signal, work(held, signal, countedJobs(10).jobs, 2))) {
          seen.push(ready.job);
          ready.release();
        }
      })(),
      /job 2 failed/,
    );
    assert.deepEqual(seen, [0, 1]);
    await allBuffersBack(memory);
  });

  it("throws the signal's reason on abort and gives every buffer back", async () => {
    const { memory, held } = stream(3);
    const abort = new AbortController();
    await cancelMidStream(
      held.prefetch(abort.signal, work(held, abort.signal, countedJobs(10).jobs)),
      2,
      abort,
    );
    await allBuffersBack(memory);
  });

  it('gives back the buffers prepared ahead when the consumer stops early', async () => {
    const { memory, held } = stream(3);
    const signal = new AbortController().signal;
    for await (const ready of held.prefetch(signal, work(held, signal, countedJobs(10).jobs))) {
      ready.release();
      if (ready.job === 1) break;
    }
    await allBuffersBack(memory);
  });
});
