import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RetryEvent } from '../../client/batch-stream.js';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { deferred, queueDepthWatcher } from '../support/deferred.js';
import { batchFingerprint, referenceFingerprints } from '../support/feed-batch-reference.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { respawnOnPort, type ServerProcess, spawnServer } from '../support/spawn-server.js';

const WORLD = 3;
const BATCH = 2;
const STEPS = 24;
const KILL_AFTER = 8;
const PREFETCH = 3;

describe('three ranks across a server killed with SIGKILL and restarted on its port', () => {
  let dataset: TempDataset;
  const servers: ServerProcess[] = [];
  let request: StreamBatchesInput;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 13n });
    // One epoch of exactly STEPS steps per rank: every nodule once, plus negatives to fill.
    request = exactEpochRequest(dataset, {
      steps: STEPS,
      batchSize: BATCH,
      worldSize: WORLD,
      seed: 91,
      epoch: 3,
    });
    servers.push(await spawnServer(['--data', dataset.dir, '--log-level', 'warn']));
  });

  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await dataset?.cleanup();
  });

  it('delivers the epoch exactly once: every rank resumes and sees what an uninterrupted run sees', {
    timeout: 90_000,
  }, async (t) => {
    const first = servers[0]!;
    const ranks = Array.from({ length: WORLD }, (_, rank) => rank);
    const reference = await Promise.all(
      ranks.map((rank) => referenceFingerprints(first.address, { ...request, rank })),
    );
    for (const rank of ranks) assert.equal(reference[rank]!.length, STEPS, `rank ${rank}`);

    // Each rank reads KILL_AFTER batches, then waits with a full prefetch queue until the server has been
    // killed and restarted, so every stream is cut with batches queued and more still to come.
    const queuesFull = ranks.map(() => deferred());
    const restarted = deferred();
    const retries: RetryEvent[][] = ranks.map(() => []);
    const run = async (rank: number): Promise<string[]> => {
      const client = createFeedClient({
        address: first.address,
        prefetch: PREFETCH,
        reconnect: { initialBackoffMs: 20, maxBackoffMs: 250, maxAttempts: 100 },
        // grpc-js's default 64 KiB window: the server cannot push the rest of the epoch before the kill.
        channelOptions: { 'grpc-node.flow_control_window': 65_535 },
      });
      const seen: string[] = [];
      const queue = queueDepthWatcher(PREFETCH);
      const options = {
        onRetry: (event: RetryEvent) => retries[rank]!.push(event),
        onQueueDepth: queue.onQueueDepth,
      };
      try {
        for await (const batch of client.streamBatches({ ...request, rank }, options)) {
          seen.push(batchFingerprint(batch));
          if (seen.length === KILL_AFTER) {
            void queue.full().then(queuesFull[rank]!.resolve);
            await restarted.promise;
          }
        }
      } finally {
        client.close();
      }
      return seen;
    };
    const runs = ranks.map(run);
    await Promise.all(queuesFull.map((full) => full.promise));
    await first.stop('SIGKILL');
    servers.push(await respawnOnPort(first.port, ['--data', dataset.dir, '--log-level', 'warn'], {}));
    restarted.resolve();
    const seen = await Promise.all(runs);

    for (const rank of ranks) {
      assert.deepEqual(seen[rank], reference[rank], `rank ${rank}`);
      assert.ok(retries[rank]!.length > 0, `rank ${rank}'s stream was cut and resumed`);
      assert.equal(
        retries[rank]![0]!.resumeAtStep,
        KILL_AFTER + PREFETCH,
        `rank ${rank} resumed after its queue`,
      );
      t.diagnostic(
        `rank ${rank}: ${retries[rank]!.length} retries (${[...new Set(retries[rank]!.map((r) => r.error.code))].join(', ')})`,
      );
    }
    // Together the ranks cover every plan position of the epoch once.
    const positions = seen.flat().flatMap((line) => /\[([\d,]+)\]/.exec(line)![1]!.split(',').map(Number));
    assert.deepEqual(
      positions.sort((a, b) => a - b),
      Array.from({ length: WORLD * BATCH * STEPS }, (_, p) => p),
    );
  });
});
