import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadLatestCheckpoint } from '../../trainer/checkpoint/checkpoint-store.js';
import { defaultTrainConfig, type TrainConfig } from '../../trainer/config/train-config.js';
import type { StepEvent } from '../../trainer/loop/train-loop.js';
import { train } from '../../trainer/main.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const quiet = { info: () => {}, warn: () => {} };

describe('voxelfeed train with checkpoints', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let root: string;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 12n });
    server = await startTestServer({ data: dataset.dir });
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-train-'));
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  function config(overrides: Partial<TrainConfig>): TrainConfig {
    return defaultTrainConfig({
      servers: [server.address],
      rankAffinity: false,
      rankGroups: 1,
      dataset: '',
      job: 'resume-test',
      rank: 0,
      worldSize: 1,
      epochs: 100,
      steps: 0,
      batchSize: 2,
      cropSize: [8, 16, 16],
      model: 'tiny',
      seed: 3,
      learningRate: 0.01,
      checkpointDir: null,
      checkpointEvery: 0,
      resume: false,
      validateEvery: 0,
      holdoutFraction: 0.2,
      maxValidationBatches: 0,
      negativesPerEpoch: 3,
      shuffleWindow: 0,
      metricsPort: null,
      metricsHost: '127.0.0.1',
      backend: 'cpu',
      prefetch: 2,
      reportEveryMs: 60_000,
      logEvery: 0,
      ...overrides,
    });
  }

  async function run(overrides: Partial<TrainConfig>): Promise<StepEvent[]> {
    const events: StepEvent[] = [];
    await train(config(overrides), { log: quiet, onStep: (event) => events.push(event) });
    return events;
  }

  it('continues after a stop with exactly the batches and, on the CPU backend, the weights of a straight run', async () => {
    const n = 6; // more than one epoch: the fixture has fewer nodules than 2n * batch
    const straightDir = path.join(root, 'straight');
    const resumedDir = path.join(root, 'resumed');
    const straight = await run({ steps: 2 * n, checkpointDir: straightDir, checkpointEvery: 1000 });
    const firstHalf = await run({ steps: n, checkpointDir: resumedDir, checkpointEvery: n });
    const secondHalf = await run({
      steps: 2 * n,
      checkpointDir: resumedDir,
      checkpointEvery: 1000,
      resume: true,
    });

    const sequence = (events: StepEvent[]) =>
      events.map((event) => `${event.epoch}:${event.step}:${event.sampleIndices.join(',')}`);
    assert.equal(straight.length, 2 * n);
    assert.deepEqual(sequence([...firstHalf, ...secondHalf]), sequence(straight));
    assert.ok(new Set(straight.map((event) => event.epoch)).size > 1, 'the run crosses an epoch boundary');

    const a = await loadLatestCheckpoint(straightDir);
    const b = await loadLatestCheckpoint(resumedDir);
    assert.ok(a && b);
    assert.deepEqual(b.cursor, a.cursor);
    assert.equal(b.globalStep, 2 * n);
    for (const variable of a.variables) {
      const other = b.variables.find((entry) => entry.name === variable.name)!;
      let worst = 0;
      variable.values.forEach((value, i) => {
        worst = Math.max(worst, Math.abs(value - other.values[i]!) / Math.max(1e-3, Math.abs(value)));
      });
      assert.ok(worst < 1e-4, `${variable.name} differs by ${worst} (relative)`);
    }
    // Both runs drew the same losses step by step, another sign the resumed run is the same computation.
    const losses = [...firstHalf, ...secondHalf].map((event) => event.loss);
    straight.forEach((event, i) => {
      assert.ok(Math.abs(event.loss - losses[i]!) < 1e-4, `step ${i}`);
    });
  });

  it('refuses to resume from a checkpoint of another model', async () => {
    const dir = path.join(root, 'other-model');
    await run({ steps: 1, checkpointDir: dir, checkpointEvery: 1 });
    await assert.rejects(
      run({ steps: 2, checkpointDir: dir, resume: true, cropSize: [8, 16, 32] }),
      /other cropSize .*another --checkpoint-dir/,
    );
  });

  it('records the share of series held out of training in the checkpoint, 0 when none were', async () => {
    const validated = path.join(root, 'holdout-validated');
    const all = path.join(root, 'holdout-none');
    await run({ steps: 1, checkpointDir: validated, validateEvery: 100, holdoutFraction: 0.25 });
    await run({ steps: 1, checkpointDir: all, holdoutFraction: 0.25 });
    assert.equal((await loadLatestCheckpoint(validated))?.meta['holdoutFraction'], 0.25);
    assert.equal((await loadLatestCheckpoint(all))?.meta['holdoutFraction'], 0);
    await assert.rejects(
      run({ steps: 2, checkpointDir: validated, resume: true, validateEvery: 100, holdoutFraction: 0.5 }),
      /other holdoutFraction \(0\.25 vs 0\.5\)/,
    );
  });

  it('resumes a checkpoint written before the held-out share was recorded', async () => {
    const dir = path.join(root, 'older');
    await run({ steps: 1, checkpointDir: dir, checkpointEvery: 1 });
    const latest = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8')) as {
      checkpoint: string;
    };
    const statePath = path.join(dir, latest.checkpoint, 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8'));
    delete state.meta.holdoutFraction;
    await writeFile(statePath, JSON.stringify(state));
    const resumed = await run({ steps: 2, checkpointDir: dir, checkpointEvery: 1, resume: true });
    assert.deepEqual(
      resumed.map((event) => event.globalStep),
      [2],
      'one more step, the second',
    );
    assert.equal((await loadLatestCheckpoint(dir))?.meta['holdoutFraction'], 0);
  });

  it('validates on held-out series and reports the mean Dice', async () => {
    const trained = await train(
      config({ steps: 2, validateEvery: 2, holdoutFraction: 0.5, maxValidationBatches: 2 }),
      {
        log: quiet,
      },
    );
    const dice = trained.summary.validationDice;
    assert.ok(dice !== null && dice >= 0 && dice <= 1, `validation Dice ${dice}`);
  });
});
