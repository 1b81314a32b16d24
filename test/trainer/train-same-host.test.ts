import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { defaultTrainConfig, type TrainConfig } from '../../trainer/config/train-config.js';
import type { StepEvent } from '../../trainer/loop/train-loop.js';
import { train } from '../../trainer/main.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

describe('voxelfeed train on the same host as its server', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let directory: string;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 14n });
    server = await startTestServer({ data: dataset.dir });
    directory = mkdtempSync('/dev/shm/voxelfeed-test-');
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  function config(overrides: Partial<TrainConfig>): TrainConfig {
    return defaultTrainConfig({
      servers: [server.address],
      job: 'same-host-test',
      epochs: 100,
      steps: 8,
      batchSize: 2,
      cropSize: [8, 16, 16],
      model: 'tiny',
      seed: 5,
      learningRate: 0.01,
      negativesPerEpoch: 3,
      metricsPort: null,
      backend: 'cpu',
      prefetch: 2,
      reportEveryMs: 60_000,
      logEvery: 0,
      ...overrides,
    });
  }

  async function run(overrides: Partial<TrainConfig>) {
    const events: StepEvent[] = [];
    const lines: string[] = [];
    const log = {
      info: (_fields: object, message: string) => lines.push(message),
      warn: (_fields: object, message: string) => lines.push(`warn: ${message}`),
    };
    await train(config(overrides), { log, onStep: (event) => events.push(event) });
    return { events, lines };
  }

  it('trains on the same batches through shared memory as through the socket, step for step', async () => {
    const normal = await run({});
    const shared = await run({ sharedMemory: directory });
    assert.ok(shared.lines.includes('batches through shared memory'), shared.lines.join('\n'));
    assert.ok(!normal.lines.includes('batches through shared memory'));
    const sequence = (events: StepEvent[]) =>
      events.map((event) => `${event.epoch}:${event.step}:${event.sampleIndices.join(',')}`);
    assert.equal(normal.events.length, 8);
    assert.ok(new Set(normal.events.map((event) => event.epoch)).size > 1, 'the run crosses an epoch');
    assert.deepEqual(sequence(shared.events), sequence(normal.events));
    // The same computation on the CPU backend: a batch overwritten before its step used it would show here.
    shared.events.forEach((event, i) => {
      assert.ok(Math.abs(event.loss - normal.events[i]!.loss) < 1e-6, `step ${i}`);
    });
  });

  it('streams normally, saying why, where the server cannot see the directory', async () => {
    const missing = `${directory}/missing`;
    const { events, lines } = await run({ steps: 2, sharedMemory: missing });
    assert.equal(events.length, 2);
    assert.ok(lines.includes('warn: same-host path refused: streaming normally'), lines.join('\n'));
  });
});
