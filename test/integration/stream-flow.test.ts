import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ServiceError, status } from '@grpc/grpc-js';
import type { Batch } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { baseStreamRequest, longEpoch, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { RecordingObserver } from '../support/stream-observer.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** Resolves when `read()` stops changing for `quietMs` (bounded by `limitMs`), with its last value. */
async function settled(read: () => number, quietMs: number, limitMs: number): Promise<number> {
  const started = Date.now();
  let last = read();
  let since = Date.now();
  while (Date.now() - started < limitMs) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = read();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
  }
  throw new Error(`the count was still changing after ${limitMs} ms (last ${last})`);
}

/** 1000 steps of 16x32x32 crops. */
const LONG_EPOCH = longEpoch([16, 32, 32]);

describe('stream flow control', () => {
  let dataset: TempDataset;
  let server: TestServer;
  const counter = new RecordingObserver();

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 9n });
    server = await startTestServer({ data: dataset.dir, hooks: { observer: counter } });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('stops preparing batches when the client cancels', async () => {
    counter.batches = 0;
    const ended = counter.nextEnd();
    const stream = server.client.streamBatches(baseStreamRequest(LONG_EPOCH));
    let received = 0;
    const cancelled = new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => {
      received += 1;
      if (received === 3) stream.cancel();
    });
    assert.equal((await cancelled).code, status.CANCELLED);
    assert.equal(await ended, 'CANCELLED');
    const prepared = await settled(() => counter.batches, 200, 5000);
    assert.ok(prepared < 30, `the server sent ${prepared} of ~1000 batches for a stream cancelled after 3`);
  });

  it('holds only a bounded number of batches for a client that stops reading, and goes on when it reads again', async () => {
    counter.batches = 0;
    const stream = server.client.streamBatches(baseStreamRequest({ ...LONG_EPOCH, maxSteps: 400n }));
    const received: Batch[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    stream.on('data', (batch: Batch) => {
      received.push(batch);
      if (received.length === 1) stream.pause();
    });
    // 16x32x32 crops with masks, 4 per batch: ~128 KiB per batch. A paused grpc-js client still buffers 16
    // messages, then the HTTP/2 window (64 KiB by default) fills, and the server keeps at most 2 unflushed
    // batches and 3 in preparation: about 21 batches, against 32 with an unbounded server queue.
    const whilePaused = await settled(() => counter.batches, 300, 10_000);
    assert.ok(whilePaused <= 24, `the server handed ${whilePaused} batches to a paused client`);
    stream.resume();
    await ended;
    assert.equal(received.length, 400);
    assert.deepEqual(
      received.map((batch) => Number(batch.step)),
      Array.from({ length: 400 }, (_, step) => step),
    );
  });

  it('ends a stream at its deadline without disturbing the next one', async () => {
    const stream = server.client.streamBatches(baseStreamRequest(LONG_EPOCH), { deadline: Date.now() + 150 });
    stream.pause();
    const error = await new Promise<ServiceError>((resolve) => stream.on('error', resolve));
    assert.equal(error.code, status.DEADLINE_EXCEEDED);
    const next = await streamAll(server.client, { ...LONG_EPOCH, maxSteps: 2n });
    assert.equal(next.length, 2);
  });
});
