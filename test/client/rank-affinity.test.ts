import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RetryEvent } from '../../client/batch-stream.js';
import { createFeedClient } from '../../client/create-feed-client.js';
import { FeedError } from '../../client/feed-error.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { batchFingerprint, referenceFingerprints } from '../support/feed-batch-reference.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { logLines, type ServerProcess, spawnServer } from '../support/spawn-server.js';

const WORLD = 2;
const BATCH = 2;
const STEPS = 30;
const KILL_AFTER = 8;
const FAST_RECONNECT = { initialBackoffMs: 20, maxBackoffMs: 250, maxAttempts: 100 };

/** The (rank, startStep) of every stream a server logged as ended. */
function streamsServed(server: ServerProcess): Array<{ rank: number; startStep: number }> {
  return logLines(server, 'stream ended').map((line) => ({
    rank: line['rank'] as number,
    startStep: Number(line['startStep']),
  }));
}

describe('rank affinity over two server replicas', () => {
  let dataset: TempDataset;
  let replicas: ServerProcess[] = [];
  let request: (rank: number, worldSize?: number) => StreamBatchesInput;

  before(async () => {
    dataset = await createPhantomDataset({ series: 12, shape: [24, 48, 48], seed: 21n });
    // One epoch of exactly STEPS steps per rank: every nodule once, negatives to fill.
    const epoch = exactEpochRequest(dataset, {
      steps: STEPS,
      batchSize: BATCH,
      worldSize: WORLD,
      seed: 5,
      epoch: 1,
    });
    request = (rank, worldSize = WORLD) => ({ ...epoch, rank, worldSize });
    replicas = await Promise.all(
      [0, 1].map(() => spawnServer(['--data', dataset.dir, '--log-level', 'info'])),
    );
  });

  after(async () => {
    for (const replica of replicas) await replica.stop('SIGKILL');
    await dataset?.cleanup();
  });

  /** The ranks of the streams a server logs from now on, once `count` of them have ended. */
  function ranksLoggedAfter(server: ServerProcess, count: number): () => Promise<number[]> {
    const before = streamsServed(server).length;
    return () =>
      pollUntil(
        async () => {
          const streams = streamsServed(server).slice(before);
          return streams.length >= count ? streams.map((stream) => stream.rank) : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50, describe: () => `${count} stream lines in ${server.stderr()}` },
      );
  }

  it('streams rank r from replica r mod K, the same batches as any replica gives', {
    timeout: 60_000,
  }, async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const ranks = [0, 1, 2, 3];
    const firstSteps = (rank: number) => ({ ...request(rank, ranks.length), maxSteps: 4 });
    const referencesLogged = ranksLoggedAfter(b, ranks.length);
    const references = [];
    for (const rank of ranks) references.push(await referenceFingerprints(b.address, firstSteps(rank)));
    await referencesLogged();
    const ranksOnA = ranksLoggedAfter(a, 2);
    const ranksOnB = ranksLoggedAfter(b, 2);
    const client = createFeedClient({ addresses: [a.address, b.address], rankAffinity: true });
    try {
      // Not in rank order: plain round robin would send ranks 0 and 2 to different replicas.
      for (const rank of [0, 2, 1, 3]) {
        const seen: string[] = [];
        for await (const batch of client.streamBatches(firstSteps(rank))) seen.push(batchFingerprint(batch));
        assert.deepEqual(seen, references[rank], `rank ${rank}`);
      }
    } finally {
      client.close();
    }
    assert.deepEqual(await ranksOnA(), [0, 2], 'replica 0 served ranks 0 and 2');
    assert.deepEqual(await ranksOnB(), [1, 3], 'replica 1 served ranks 1 and 3');
  });

  it('takes a dns:/// name for the replicas behind it, with and without rank affinity', {
    timeout: 60_000,
  }, async () => {
    const b = replicas[1]!;
    const target = `dns:///localhost:${b.port}`;
    for (const rankAffinity of [false, true]) {
      // localhost may also resolve to ::1, where nothing listens: that replica is skipped or failed over.
      const client = createFeedClient({ address: target, rankAffinity, reconnect: FAST_RECONNECT });
      try {
        assert.ok((await client.datasetInfo()).series > 0);
        for (const rank of [0, 1]) {
          const input = { ...request(rank), maxSteps: 3 };
          const seen: string[] = [];
          for await (const batch of client.streamBatches(input)) seen.push(batchFingerprint(batch));
          assert.deepEqual(
            seen,
            await referenceFingerprints(b.address, input),
            `rank ${rank}, affinity ${rankAffinity}`,
          );
        }
      } finally {
        client.close();
      }
    }
  });

  it('with rank groups, gives each replica its own part of the epoch: its own series', {
    timeout: 60_000,
  }, async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const WINDOW = 2;
    /** The series each replica decoded for one epoch of 4 ranks, ranks r mod 2 on replica r mod 2. */
    const seriesByReplica = async (rankGroups: number) => {
      const client = createFeedClient({ addresses: [a.address, b.address], rankAffinity: true });
      const series = [new Set<string>(), new Set<string>()];
      try {
        for (const rank of [0, 1, 2, 3]) {
          const input = {
            ...request(rank, 4),
            rankGroups,
            sampling: { samplesPerNodule: 1, negativesPerEpoch: 4 * dataset.series, shuffleWindow: WINDOW },
          };
          for await (const batch of client.streamBatches(input))
            for (const sample of batch.samples) series[rank % 2]!.add(sample.seriesUid);
        }
      } finally {
        client.close();
      }
      return series as [Set<string>, Set<string>];
    };
    const [grouped0, grouped1] = await seriesByReplica(2);
    const [interleaved0, interleaved1] = await seriesByReplica(1);
    const shared = (x: Set<string>, y: Set<string>) => [...x].filter((uid) => y.has(uid)).length;
    // Each replica's part is a run of whole windows but for the one window its two ends may share.
    assert.ok(shared(grouped0, grouped1) <= WINDOW, `grouped: ${shared(grouped0, grouped1)} series on both`);
    assert.ok(grouped0.size + grouped1.size <= dataset.series + WINDOW);
    assert.ok(
      shared(interleaved0, interleaved1) >= dataset.series - WINDOW,
      `interleaved: ${shared(interleaved0, interleaved1)} of ${dataset.series} series on both`,
    );
  });

  it('refuses more rank groups than ranks with INVALID_ARGUMENT naming both', async () => {
    const client = createFeedClient({ address: replicas[1]!.address });
    try {
      await assert.rejects(
        async () => {
          for await (const _ of client.streamBatches({ ...request(0, 2), rankGroups: 3 }))
            assert.fail('no batch');
        },
        (error: unknown) =>
          error instanceof FeedError &&
          error.code === 'INVALID_ARGUMENT' &&
          error.message.includes('rank_groups is 3 but world_size is 2'),
      );
    } finally {
      client.close();
    }
  });

  it('moves a rank whose replica dies to the other one, with nothing lost or repeated', {
    timeout: 60_000,
  }, async () => {
    const [a, b] = replicas as [ServerProcess, ServerProcess];
    const reference = await referenceFingerprints(b.address, request(0));
    assert.equal(reference.length, STEPS);
    const retries: RetryEvent[] = [];
    const client = createFeedClient({
      addresses: [a.address, b.address],
      rankAffinity: true,
      prefetch: 2,
      reconnect: FAST_RECONNECT,
      // grpc-js's 64 KiB window: replica 0 cannot push the rest of the epoch into this client's buffers
      // before it is killed, so the kill really cuts the stream.
      channelOptions: { 'grpc-node.flow_control_window': 65_535 },
    });
    const seen: string[] = [];
    try {
      for await (const batch of client.streamBatches(request(0), {
        onRetry: (event) => retries.push(event),
      })) {
        seen.push(batchFingerprint(batch));
        if (seen.length === KILL_AFTER) await a.stop('SIGKILL');
      }
    } finally {
      client.close();
    }
    assert.deepEqual(seen, reference);
    assert.ok(retries.length > 0, 'the stream on replica 0 was cut');
    const resumedAt = retries.at(-1)!.resumeAtStep;
    assert.ok(resumedAt >= KILL_AFTER && resumedAt < STEPS, `resumed at step ${resumedAt}`);
    const onB = await pollUntil(
      async () =>
        streamsServed(b).find((stream) => stream.rank === 0 && stream.startStep === resumedAt) ?? undefined,
      { timeoutMs: 10_000, intervalMs: 50, describe: () => `rank 0 from step ${resumedAt} on replica 1` },
    );
    assert.equal(onB.startStep, resumedAt, 'replica 1 served the rest of the epoch');
  });
});
