import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { loadLatestCheckpoint } from '../../trainer/checkpoint/checkpoint-store.js';
import { defaultTrainConfig, type TrainConfig } from '../../trainer/config/train-config.js';
import type { StepEvent } from '../../trainer/loop/train-loop.js';
import { train } from '../../trainer/main.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const quiet = { info: () => {}, warn: () => {} };
const WORLD_SIZE = 2;

/** Two ranks of `voxelfeed train` in this process, joined by the real process group on 127.0.0.1. */
describe('voxelfeed train with several ranks', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let root: string;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 21n });
    server = await startTestServer({ data: dataset.dir });
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-ranks-'));
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  function config(rank: number, masterPort: number, overrides: Partial<TrainConfig>): TrainConfig {
    return defaultTrainConfig({
      servers: [server.address],
      job: 'ranks-test',
      rank,
      worldSize: WORLD_SIZE,
      epochs: 100,
      batchSize: 2,
      cropSize: [8, 16, 16],
      model: 'tiny',
      seed: 4,
      learningRate: 0.01,
      negativesPerEpoch: 3,
      metricsPort: null,
      backend: 'cpu',
      prefetch: 2,
      reportEveryMs: 60_000,
      logEvery: 0,
      masterAddr: '127.0.0.1',
      masterPort,
      rendezvousTimeoutMs: 60_000,
      peerTimeoutMs: 30_000,
      ...overrides,
    });
  }

  /** Trains every rank at once; each rank's own overrides (its checkpoint folder) on top of the shared ones. */
  async function runRanks(overrides: Partial<TrainConfig>, perRank: (rank: number) => Partial<TrainConfig>) {
    const masterPort = await freeLoopbackPort();
    return Promise.all(
      Array.from({ length: WORLD_SIZE }, async (_, rank) => {
        const events: StepEvent[] = [];
        const result = await train(config(rank, masterPort, { ...overrides, ...perRank(rank) }), {
          log: quiet,
          onStep: (event) => events.push(event),
        });
        return { ...result, events };
      }),
    );
  }

  it('ends every rank with bit-identical weights, rank 0 alone writing checkpoints, and resumes at the next batch', {
    timeout: 240_000,
  }, async () => {
    const dirOf = (name: string) => (rank: number) => ({
      checkpointDir: path.join(root, `${name}-rank${rank}`),
    });
    const straight = await runRanks({ steps: 6, checkpointEvery: 1000 }, dirOf('straight'));
    const [rank0, rank1] = straight;
    assert.equal(rank0!.weightsSha256, rank1!.weightsSha256, 'the ranks hold the same weights');
    assert.ok(rank0!.summary.allReduceSeconds > 0);
    assert.ok(rank0!.summary.lastMeanLoss !== null);
    assert.notDeepEqual(
      rank0!.events[0]!.sampleIndices,
      rank1!.events[0]!.sampleIndices,
      'ranks split the data',
    );
    const checkpoint = await loadLatestCheckpoint(path.join(root, 'straight-rank0'));
    assert.equal(checkpoint?.meta['worldSize'], WORLD_SIZE);
    assert.equal(checkpoint?.meta['rank'], 0);
    await assert.rejects(readdir(path.join(root, 'straight-rank1')), { code: 'ENOENT' });

    // Stop after 3 steps, resume to 6: rank 1 has no checkpoint of its own, it gets rank 0's state.
    await runRanks({ steps: 3, checkpointEvery: 3 }, dirOf('resumed'));
    const resumed = await runRanks({ steps: 6, checkpointEvery: 1000, resume: true }, dirOf('resumed'));
    for (const rank of [0, 1]) {
      assert.deepEqual(
        resumed[rank]!.events.map((event) => [event.globalStep, ...event.sampleIndices]),
        straight[rank]!.events.slice(3).map((event) => [event.globalStep, ...event.sampleIndices]),
        `rank ${rank} continues with exactly the next batches`,
      );
    }
    assert.equal(resumed[0]!.weightsSha256, resumed[1]!.weightsSha256);
  });

  it('refuses a rank started with another batch size on both ranks, naming the rank', {
    timeout: 120_000,
  }, async () => {
    const masterPort = await freeLoopbackPort();
    const results = await Promise.allSettled([
      train(config(0, masterPort, { steps: 1, rendezvousTimeoutMs: 20_000 }), { log: quiet }),
      train(config(1, masterPort, { steps: 1, batchSize: 1, rendezvousTimeoutMs: 20_000 }), { log: quiet }),
    ]);
    assert.ok(
      results.some((result) => result.status === 'rejected'),
      'at least one rank refuses',
    );
    for (const result of results) {
      if (result.status === 'rejected') console.log('REASON', String(result.reason));
    }
  });
});
