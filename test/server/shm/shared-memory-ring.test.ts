import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type RingBatch, SharedMemoryRing } from '../../../server/shm/shared-memory-ring.js';

/** A batch message of `bytes` bytes filled with `fill`, its image at byte 5 (after a tag and a 4-byte length). */
function batch(bytes: number, fill: number): RingBatch {
  return {
    message: Buffer.alloc(bytes, fill),
    imageStart: 5,
    imageLength: bytes - 5,
    maskStart: 0,
    maskLength: 0,
  };
}

/** Whether `promise` is still pending after the event loop has run everything it can now. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}

describe('SharedMemoryRing', () => {
  const directory = mkdtempSync(path.join(tmpdir(), 'voxelfeed-ring-test-'));
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('holds at most its slots, writes into a slot only once it is released, and removes its file', async () => {
    const ring = new SharedMemoryRing(directory, 2, 'test');
    const signal = new AbortController().signal;
    const first = await ring.put(batch(1000, 1), signal);
    const second = await ring.put(batch(1000, 2), signal);
    const fileBytes = statSync(ring.path).size;
    assert.equal(fileBytes, ring.fileBytes);
    assert.ok(
      fileBytes >= 2 * 1000 && fileBytes <= 2 * (1000 + 64 + 64 * 1024 + 4096),
      `file of ${fileBytes}`,
    );
    // The image starts on a 64-byte boundary of the file.
    assert.equal(Number(first.imageOffset) % 64, 0);
    const third = ring.put(batch(1000, 3), signal);
    assert.ok(await pending(third), 'no third batch while both slots are held');
    ring.release([second.id]);
    const placed = await third;
    assert.equal(placed.offset, second.offset, 'the released slot is reused');
    const bytes = readFileSync(ring.path);
    assert.equal(bytes[Number(first.offset)], 1, 'the unreleased batch is untouched');
    assert.equal(bytes[Number(placed.offset)], 3);
    assert.equal(ring.heldBatches, 2);
    ring.release([second.id, 999n]); // already released, unknown: nothing
    assert.equal(ring.heldBatches, 2);
    await ring.close();
    assert.equal(existsSync(ring.path), false);
  });

  it('grows its slots for a larger batch once every slot is released', async () => {
    const ring = new SharedMemoryRing(directory, 2, 'grow');
    const signal = new AbortController().signal;
    const small = await ring.put(batch(1000, 1), signal);
    const large = ring.put(batch(200_000, 2), signal);
    assert.ok(await pending(large), 'the larger batch waits for the held one');
    ring.release([small.id]);
    const placed = await large;
    assert.ok(ring.fileBytes >= 2 * 200_000);
    assert.equal(readFileSync(ring.path)[Number(placed.offset) + 199_999], 2);
    await ring.close();
  });

  it('stops waiting for a slot when the stream is aborted', async () => {
    const ring = new SharedMemoryRing(directory, 1, 'abort');
    const abort = new AbortController();
    await ring.put(batch(100, 1), abort.signal);
    const waiting = ring.put(batch(100, 2), abort.signal);
    abort.abort(new Error('cancelled'));
    await assert.rejects(waiting, /cancelled/);
    await ring.close();
  });
});
