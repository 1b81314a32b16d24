import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALWAYS_MAPPED_BYTES, BatchMemory } from '../../../server/batches/batch-memory.js';
import { exposeGarbageCollector } from '../../../server/batches/expose-garbage-collector.js';
import { pollUntil } from '../../support/poll-until.js';

const gc = exposeGarbageCollector();

/** Whether `promise` has settled after the queued callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** Takes a buffer and abandons it, as a cancelled gRPC call does, in a frame of its own (see useAndRelease). */
async function abandonOne(memory: BatchMemory, bytes: number): Promise<void> {
  const buffer = await memory.acquire(bytes);
  buffer.fill(1, 0, bytes);
  memory.abandon(buffer);
}

/**
 * Takes buffers of these sizes and gives them back, in a frame of its own: a suspended async function may keep
 * the last values it handled alive, and these must become garbage once dropped.
 */
async function useAndRelease(memory: BatchMemory, sizes: readonly number[]): Promise<void> {
  const buffers = await Promise.all(sizes.map((bytes) => memory.acquire(bytes)));
  for (const buffer of buffers) memory.release(buffer);
}

describe('BatchMemory', () => {
  it('holds at most its budget: a batch that does not fit waits for a release, then reuses that buffer', async () => {
    const memory = new BatchMemory({ budgetBytes: 2500, idleReleaseMs: 0 });
    const first = await memory.acquire(1000);
    await memory.acquire(1000);
    const third = memory.acquire(1000);
    assert.equal(await settled(third), false, 'a third batch of 1000 bytes does not fit 2500');
    assert.deepEqual(
      { held: memory.stats().heldBytes, waiting: memory.stats().waiting },
      { held: 2000, waiting: 1 },
    );
    memory.release(first);
    assert.equal(await third, first, 'the released buffer, not a new one');
    assert.equal(memory.stats().heldBytes, 2000);
    memory.release(first);
    memory.release(first);
    assert.equal(memory.stats().freeBytes, 1000, 'a second release of one buffer changes nothing');
  });

  it('serves a stream that holds no batch before batches prepared ahead by others', async () => {
    const memory = new BatchMemory({ budgetBytes: 1000, idleReleaseMs: 0 });
    const held = await memory.acquire(1000);
    const order: string[] = [];
    const ahead = memory.acquire(1000).then((buffer) => {
      order.push('ahead');
      return buffer;
    });
    const urgent = memory.acquire(1000, undefined, true).then((buffer) => {
      order.push('urgent');
      return buffer;
    });
    memory.release(held);
    memory.release(await urgent);
    await ahead;
    assert.deepEqual(order, ['urgent', 'ahead']);
  });

  it('gives a stream that holds no batch memory beyond the budget when stalled streams hold it all', async () => {
    // Two streams whose clients stopped reading hold the whole budget and will not release it.
    const memory = new BatchMemory({ budgetBytes: 1000, idleReleaseMs: 0, urgentGraceMs: 50 });
    const stalled = [await memory.acquire(500), await memory.acquire(500)];
    const ahead = memory.acquire(400);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      memory.acquire(400, undefined, true).then((buffer) => buffer.length),
      new Promise<'still waiting'>((resolve) => {
        timer = setTimeout(() => resolve('still waiting'), 5000);
      }),
    ]);
    clearTimeout(timer);
    assert.ok(typeof outcome === 'number' && outcome >= 400, String(outcome));
    assert.equal(memory.stats().beyondBudget, 1);
    assert.equal(memory.stats().waiting, 1, 'a batch prepared ahead still waits for the budget');
    for (const buffer of stalled) memory.release(buffer);
    assert.ok((await ahead).length >= 400);
  });

  it('stops waiting when its signal aborts, with the reason, and serves the batch behind it', async () => {
    const memory = new BatchMemory({ budgetBytes: 1000, idleReleaseMs: 0 });
    const held = await memory.acquire(600);
    const abort = new AbortController();
    const big = memory.acquire(900, abort.signal);
    const small = memory.acquire(300);
    abort.abort(new Error('the client cancelled'));
    await assert.rejects(big, /the client cancelled/);
    assert.equal((await small).length >= 300, true, 'the next batch fits beside the held one');
    assert.equal(memory.stats().waiting, 0);
    memory.release(held);
    await assert.rejects(memory.acquire(1, abort.signal), /the client cancelled/);
  });

  it("gives batches of 1 MiB or more buffers over glibc's largest mmap threshold, counting the bytes written", async () => {
    const memory = new BatchMemory({ budgetBytes: 64 * 1024 ** 2, idleReleaseMs: 0 });
    const large = await memory.acquire(2 * 1024 ** 2);
    assert.ok(large.length >= ALWAYS_MAPPED_BYTES && ALWAYS_MAPPED_BYTES > 32 * 1024 ** 2);
    assert.equal(large.byteOffset, 0, 'its own ArrayBuffer, for aligned float32 views');
    assert.equal(memory.stats().heldBytes, 2 * 1024 ** 2);
    memory.release(large);
    // Reused for a larger batch: what it holds grows to the larger batch.
    assert.equal(await memory.acquire(3 * 1024 ** 2), large);
    assert.equal(memory.stats().heldBytes, 3 * 1024 ** 2);
    const small = await memory.acquire(1000);
    assert.ok(small.length >= 1000 && small.length < 1024 ** 2);
  });

  it('hands out buffers in shared memory, which crop workers write into without a copy', async () => {
    const memory = new BatchMemory({ budgetBytes: 64 * 1024 ** 2, idleReleaseMs: 0 });
    for (const bytes of [1000, 2 * 1024 ** 2]) {
      const buffer = await memory.acquire(bytes);
      assert.ok(buffer.buffer instanceof SharedArrayBuffer, `a buffer of ${bytes} bytes`);
      assert.equal(buffer.byteOffset, 0);
    }
  });

  it('drops its free buffers after the idle time and runs one collection that frees them', async () => {
    let collections = 0;
    const memory = new BatchMemory({
      budgetBytes: 10_000,
      idleReleaseMs: 50,
      collectGarbage: () => {
        collections += 1;
        gc();
      },
    });
    await useAndRelease(memory, [1000, 2000]);
    assert.equal(memory.stats().freeBytes, 3000);
    await pollUntil(async () => (memory.stats().heldBytes === 0 ? true : undefined), {
      timeoutMs: 5000,
      intervalMs: 10,
      describe: () => `the free buffers to be collected (${JSON.stringify(memory.stats())})`,
    });
    assert.equal(collections, 1);
    assert.equal(memory.stats().collections, 1);
    // Without traffic nothing runs again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(collections, 1);
    memory.dispose();
  });

  it('counts the buffer of a cancelled call until V8 collects it, then serves the batch waiting for it', async () => {
    const memory = new BatchMemory({ budgetBytes: 1000, idleReleaseMs: 0, collectGarbage: gc });
    await abandonOne(memory, 800);
    assert.deepEqual(
      [memory.stats().heldBytes, memory.stats().inUseBytes],
      [800, 0],
      'held, no longer in use',
    );
    const waiting = memory.acquire(800);
    assert.equal(await settled(waiting), false);
    // Waiting on an abandoned buffer asks for a collection: it is freed and its memory used again.
    assert.ok((await waiting).length >= 800);
    assert.equal(memory.stats().heldBytes, 800);
    assert.equal(memory.stats().collections, 1);
    memory.dispose();
  });

  it('never reuses an abandoned buffer, even if gRPC reports it flushed after all', async () => {
    const memory = new BatchMemory({ budgetBytes: 10_000, idleReleaseMs: 0 });
    const buffer = await memory.acquire(1000);
    memory.abandon(buffer);
    memory.release(buffer);
    assert.equal(memory.stats().freeBytes, 0);
    assert.notEqual(await memory.acquire(1000), buffer);
  });

  it('drops free buffers too small for a larger batch, and collects them to make room', async () => {
    const memory = new BatchMemory({ budgetBytes: 1000, idleReleaseMs: 0, collectGarbage: gc });
    await useAndRelease(memory, [300, 300]);
    assert.ok((await memory.acquire(900)).length >= 900);
    assert.equal(memory.stats().heldBytes, 900, 'the small buffers were collected');
    memory.dispose();
  });

  it('gives a batch larger than the whole budget all of it, once everything else is collected', async () => {
    const memory = new BatchMemory({ budgetBytes: 1000, idleReleaseMs: 0, collectGarbage: gc });
    await useAndRelease(memory, [300, 600]);
    const oversize = await memory.acquire(1500);
    assert.ok(oversize.length >= 1500);
    assert.equal(memory.stats().heldBytes, 1500, 'alone, once everything else is collected');
    memory.dispose();
  });
});
