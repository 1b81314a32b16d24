import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RetryEvent } from '../../client/batch-stream.js';
import { createFeedClient } from '../../client/create-feed-client.js';
import { FeedError } from '../../client/feed-error.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { backoffDelayMs, DEFAULT_RECONNECT } from '../../client/reconnect.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { queueDepthWatcher } from '../support/deferred.js';
import { batchFingerprint, referenceFingerprints } from '../support/feed-batch-reference.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { respawnOnPort, type ServerProcess, spawnServer } from '../support/spawn-server.js';

describe('backoffDelayMs', () => {
  it('waits uniformly below a cap that doubles from the initial backoff up to the maximum', () => {
    const policy = { initialBackoffMs: 100, maxBackoffMs: 5000, maxAttempts: 20 };
    const almostOne = () => 1 - 2 ** -40;
    const caps = [1, 2, 3, 4, 5, 6, 7, 8, 30].map(
      (failures) => backoffDelayMs(failures, policy, almostOne) + 1,
    );
    assert.deepEqual(caps, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    assert.equal(
      backoffDelayMs(3, policy, () => 0),
      0,
    );
    assert.equal(
      backoffDelayMs(3, policy, () => 0.5),
      200,
    );
  });

  it('defaults to 100 ms, 5 s and 20 attempts', () => {
    assert.deepEqual(DEFAULT_RECONNECT, { initialBackoffMs: 100, maxBackoffMs: 5000, maxAttempts: 20 });
  });
});

const STEPS = 60;
const KILL_AFTER = 15;
const PREFETCH = 3;

describe('a stream across a killed and restarted server', () => {
  let dataset: TempDataset;
  const servers: ServerProcess[] = [];
  let request: StreamBatchesInput;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 13n });
    // One epoch of exactly STEPS steps of 2 samples: every nodule once, plus negatives to fill.
    request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 77, epoch: 2 });
    servers.push(await spawnServer(['--data', dataset.dir, '--log-level', 'warn']));
  });

  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await dataset?.cleanup();
  });

  it('delivers every step once and in order, byte-identical to an uninterrupted run', {
    timeout: 60_000,
  }, async (t) => {
    const first = servers[0]!;
    const reference = await referenceFingerprints(first.address, request);
    assert.equal(reference.length, STEPS);

    const retries: RetryEvent[] = [];
    const client = createFeedClient({
      address: first.address,
      prefetch: PREFETCH,
      reconnect: { initialBackoffMs: 20, maxBackoffMs: 250, maxAttempts: 100 },
      // grpc-js's default 64 KiB window instead of 16 MiB: the server cannot send the whole epoch (9.6 MiB)
      // into the client's buffers before the kill, so the kill really cuts the stream.
      channelOptions: { 'grpc-node.flow_control_window': 65_535 },
    });
    const seen: string[] = [];
    const queue = queueDepthWatcher(PREFETCH);
    const options = { onRetry: (event: RetryEvent) => retries.push(event), onQueueDepth: queue.onQueueDepth };
    try {
      for await (const batch of client.streamBatches(request, options)) {
        seen.push(batchFingerprint(batch));
        if (seen.length === KILL_AFTER) {
          // Kill while the queue is full: its batches must be delivered, and the stream resumed after them.
          await queue.full();
          await first.stop('SIGKILL');
          servers.push(await respawnOnPort(first.port, ['--data', dataset.dir, '--log-level', 'warn']));
        }
      }
    } finally {
      client.close();
    }
    assert.deepEqual(seen, reference);
    assert.ok(retries.length > 0, 'the stream was cut and resumed');
    const resumedAt = retries[0]!.resumeAtStep;
    assert.equal(resumedAt, KILL_AFTER + PREFETCH, 'resumed right after the queued batches');
    for (const retry of retries)
      assert.ok(['UNAVAILABLE', 'INTERNAL'].includes(retry.error.code), retry.error.message);
    t.diagnostic(`resumed at step ${resumedAt} after ${retries.length} retries; errors seen:`);
    for (const detail of new Set(retries.map((retry) => `${retry.error.code}: ${retry.error.details}`)))
      t.diagnostic(detail);
  });

  it('resumes a strided stream at its next own step, not the next step', { timeout: 60_000 }, async () => {
    const STRIDE = 3;
    const START = 1;
    const server = servers[servers.length - 1]!;
    const reference = await referenceFingerprints(server.address, request);
    const expected = reference.filter((_, step) => step >= START && (step - START) % STRIDE === 0);
    const retries: RetryEvent[] = [];
    const client = createFeedClient({
      address: server.address,
      prefetch: 1,
      reconnect: { initialBackoffMs: 20, maxBackoffMs: 250, maxAttempts: 100 },
      channelOptions: { 'grpc-node.flow_control_window': 65_535 },
    });
    const seen: string[] = [];
    const steps: number[] = [];
    try {
      const strided = { ...request, startStep: START, stepStride: STRIDE, maxSteps: expected.length };
      for await (const batch of client.streamBatches(strided, { onRetry: (event) => retries.push(event) })) {
        seen.push(batchFingerprint(batch));
        steps.push(batch.step);
        if (seen.length === 4) {
          await server.stop('SIGKILL');
          servers.push(await respawnOnPort(server.port, ['--data', dataset.dir, '--log-level', 'warn']));
        }
      }
    } finally {
      client.close();
    }
    assert.deepEqual(
      steps,
      expected.map((_, k) => START + k * STRIDE),
    );
    assert.deepEqual(seen, expected);
    assert.ok(retries.length > 0, 'the stream was cut and resumed');
    assert.equal((retries[0]!.resumeAtStep - START) % STRIDE, 0, 'resumed at a step of its own');
  });
});

describe('a client whose server does not come back', () => {
  it('gives up after maxAttempts with UNAVAILABLE naming the address and the attempts', {
    timeout: 20_000,
  }, async () => {
    const address = `127.0.0.1:${await freeLoopbackPort()}`;
    const client = createFeedClient({
      address,
      reconnect: { initialBackoffMs: 5, maxBackoffMs: 20, maxAttempts: 4 },
    });
    const retries: RetryEvent[] = [];
    const isGiveUp = (error: unknown) => {
      assert.ok(error instanceof FeedError, String(error));
      assert.equal(error.code, 'UNAVAILABLE');
      assert.ok(error.message.includes(address), error.message);
      assert.ok(error.message.includes('after 4 failed attempts'), error.message);
      assert.ok(error.cause instanceof FeedError && error.cause.code === 'UNAVAILABLE');
      return true;
    };
    try {
      await assert.rejects(async () => {
        for await (const _ of client.streamBatches(
          { batchSize: 1, cropSize: [8, 8, 8] },
          { onRetry: (r) => retries.push(r) },
        )) {
          assert.fail('no batch can arrive');
        }
      }, isGiveUp);
      assert.deepEqual(
        retries.map((retry) => [retry.failures, retry.resumeAtStep]),
        [
          [1, 0],
          [2, 0],
          [3, 0],
        ],
      );
      for (const retry of retries) assert.ok(retry.delayMs >= 0 && retry.delayMs < 20);
      await assert.rejects(client.datasetInfo(), isGiveUp);
    } finally {
      client.close();
    }
  });
});
