import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { saveCheckpoint } from '../../../trainer/checkpoint/checkpoint-store.js';
import { readModelState } from '../../../trainer/checkpoint/model-state.js';
import { readInferenceCheckpoint } from '../../../trainer/infer/read-inference-checkpoint.js';
import { vnetPredictor } from '../../../trainer/infer/vnet-predictor.js';
import { createVNet } from '../../../trainer/model/vnet.js';
import { VNET_TINY } from '../../../trainer/model/vnet-config.js';

describe('readInferenceCheckpoint and vnetPredictor', () => {
  let root: string;
  before(async () => {
    await tf.setBackend('cpu');
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-infer-ck-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  it("predicts with the checkpoint's weights what the trained model predicts", async () => {
    const trained = createVNet({ ...VNET_TINY, seed: 5 });
    const dir = path.join(root, 'tiny');
    await saveCheckpoint(dir, {
      cursor: { epoch: 0, step: 3 },
      globalStep: 3,
      meta: { model: trained.config, cropSize: [8, 16, 16], dataset: 'phantom', holdoutFraction: 0.25 },
      variables: await readModelState(trained),
      optimizer: [],
    });
    const checkpoint = await readInferenceCheckpoint(dir);
    assert.equal(checkpoint.name, 'step-000000003');
    assert.deepEqual(checkpoint.cropSize, [8, 16, 16]);
    assert.equal(checkpoint.holdoutFraction, 0.25);
    assert.equal(checkpoint.dataset, 'phantom');

    // A predictor built from another seed would differ: the weights come from the file.
    const predictor = vnetPredictor(checkpoint, 'cpu');
    const image = Uint8Array.from({ length: 2 * 8 * 16 * 16 }, (_, i) => (i * 37) % 256);
    const predicted = await predictor.predict({ shape: [2, 8, 16, 16], dtype: 'uint8', image });
    const expected = tf.tidy(() =>
      trained.predict(tf.div(tf.tensor(image, [2, 8, 16, 16, 1], 'float32'), 255) as tf.Tensor5D),
    );
    const want = await expected.data();
    assert.equal(predicted.length, want.length);
    let worst = 0;
    predicted.forEach((p, i) => {
      worst = Math.max(worst, Math.abs(p - want[i]!));
    });
    assert.ok(worst < 1e-6, `largest difference ${worst}`);
    assert.ok(predicted.every((p) => p >= 0 && p <= 1));
    expected.dispose();
    predictor.dispose();
    trained.dispose();
  });

  it('says there is no checkpoint in a folder without one', async () => {
    await assert.rejects(readInferenceCheckpoint(path.join(root, 'empty')), {
      code: 'FAILED_PRECONDITION',
      message:
        /^--checkpoint .*empty: no checkpoint there \(no .*latest\.json\); pass the folder given to voxelfeed train --checkpoint-dir/,
    });
  });

  it('refuses a checkpoint whose meta has no V-Net config or crop', async () => {
    const dir = path.join(root, 'foreign');
    await saveCheckpoint(dir, {
      cursor: { epoch: 0, step: 0 },
      globalStep: 1,
      meta: { cropSize: [8, 8, 8] },
      variables: [],
      optimizer: [],
    });
    await assert.rejects(
      readInferenceCheckpoint(dir),
      /has no V-Net config \(meta.model\); it was not written by voxelfeed train/,
    );
  });
});
