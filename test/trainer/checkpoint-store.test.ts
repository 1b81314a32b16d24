import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type Checkpoint,
  loadLatestCheckpoint,
  saveCheckpoint,
} from '../../trainer/checkpoint/checkpoint-store.js';

function checkpointAt(globalStep: number): Checkpoint {
  return {
    cursor: { epoch: 2, step: globalStep % 7 },
    globalStep,
    meta: { model: 'tiny', crop: [8, 16, 16] },
    variables: [
      {
        name: 'enc0/conv0/kernel',
        shape: [2, 3],
        values: Float32Array.from([1, -2, 3.5, 1e-7, -0, globalStep]),
      },
      { name: 'head/bias', shape: [1], values: Float32Array.from([0.25]) },
    ],
    optimizer: [{ name: 'enc0/conv0/kernel/m', shape: [6], values: new Float32Array(6).fill(0.125) }],
  };
}

describe('checkpoint store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-ckpt-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds nothing in an empty folder', async () => {
    assert.equal(await loadLatestCheckpoint(path.join(dir, 'none')), null);
  });

  it('reads back exactly what it wrote, and the newest checkpoint wins', async () => {
    await saveCheckpoint(dir, checkpointAt(10));
    await saveCheckpoint(dir, checkpointAt(20));
    const loaded = await loadLatestCheckpoint(dir);
    assert.deepEqual(loaded, checkpointAt(20));
  });

  it('keeps only the newest few and leaves no temporary files', async () => {
    for (const step of [30, 40, 50, 60]) await saveCheckpoint(dir, checkpointAt(step), 2);
    const names = (await readdir(dir)).sort();
    assert.deepEqual(names, ['latest.json', 'step-000000050', 'step-000000060']);
  });

  it('says what to do with a latest.json that names nothing', async () => {
    await writeFile(path.join(dir, 'latest.json'), '{"checkpoint": "../../etc"}');
    await assert.rejects(loadLatestCheckpoint(dir), /does not name a checkpoint; delete it/);
  });
});
