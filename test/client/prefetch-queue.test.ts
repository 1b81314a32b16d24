import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrefetchQueue } from '../../client/prefetch-queue.js';

function recordingQueue(capacity: number) {
  const events: string[] = [];
  const depths: number[] = [];
  const queue = new PrefetchQueue<number>(capacity, {
    onFull: () => events.push('pause'),
    onSpace: () => events.push('resume'),
    onDepth: (depth) => depths.push(depth),
  });
  return { queue, events, depths };
}

describe('PrefetchQueue', () => {
  it('asks the producer to pause once capacity items wait, and to resume when the consumer takes one', async () => {
    const { queue, events, depths } = recordingQueue(2);
    queue.push(1);
    assert.deepEqual(events, []);
    queue.push(2);
    assert.deepEqual(events, ['pause']);
    assert.equal(queue.full, true);
    assert.deepEqual(await queue.take(), { value: 1, done: false });
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(queue.full, false);
    queue.push(3);
    assert.deepEqual(events, ['pause', 'resume', 'pause']);
    assert.deepEqual(await queue.take(), { value: 2, done: false });
    assert.deepEqual(await queue.take(), { value: 3, done: false });
    assert.deepEqual(depths, [1, 2, 1, 2, 1, 0]);
  });

  it('hands a pushed item straight to a waiting consumer without queueing it', async () => {
    const { queue, depths } = recordingQueue(1);
    const taken = queue.take();
    queue.push(7);
    assert.deepEqual(await taken, { value: 7, done: false });
    assert.deepEqual(depths, []);
    assert.equal(queue.full, false);
  });

  it('delivers the end and failures after the queued items, and nothing pushed after them', async () => {
    const ended = recordingQueue(4).queue;
    ended.push(1);
    ended.end();
    ended.push(2);
    assert.deepEqual(await ended.take(), { value: 1, done: false });
    assert.deepEqual(await ended.take(), { value: undefined, done: true });
    assert.deepEqual(await ended.take(), { value: undefined, done: true });

    const failed = recordingQueue(4).queue;
    failed.push(1);
    failed.fail(new Error('server gone'));
    assert.deepEqual(await failed.take(), { value: 1, done: false });
    await assert.rejects(failed.take(), /server gone/);
  });

  it('wakes a waiting consumer with the end or the failure', async () => {
    const ended = recordingQueue(4).queue;
    const next = ended.take();
    ended.end();
    assert.deepEqual(await next, { value: undefined, done: true });
    const failed = recordingQueue(4).queue;
    const pending = failed.take();
    failed.fail(new Error('refused'));
    await assert.rejects(pending, /refused/);
  });

  it('drops the queued items and fails the consumer at once on discard', async () => {
    const { queue, depths } = recordingQueue(4);
    queue.push(1);
    queue.push(2);
    queue.discard(new Error('aborted'));
    await assert.rejects(queue.take(), /aborted/);
    assert.equal(queue.depth, 0);
    assert.deepEqual(depths, [1, 2, 0]);
  });

  it('serves one consumer at a time', async () => {
    const { queue } = recordingQueue(1);
    const first = queue.take();
    await assert.rejects(queue.take(), /one consumer at a time/);
    queue.end();
    assert.deepEqual(await first, { value: undefined, done: true });
  });
});
