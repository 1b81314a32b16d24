import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { agreeStartState } from '../../../trainer/checkpoint/agree-start-state.js';
import { readOptimizerState } from '../../../trainer/checkpoint/model-state.js';
import { decodeStartState, encodeStartState } from '../../../trainer/checkpoint/start-state.js';
import { weightsSha256 } from '../../../trainer/checkpoint/weights-sha256.js';
import { createVNet } from '../../../trainer/model/vnet.js';
import { VNET_TINY } from '../../../trainer/model/vnet-config.js';
import { inProcessGroups } from '../../support/in-process-group.js';

describe('agreeStartState', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  it("gives every rank rank 0's weights, optimizer slots, cursor and global step", async () => {
    const { groups } = inProcessGroups(3);
    // Other seeds stand for ranks that initialised differently (another backend, another version).
    const models = groups.map((group) => createVNet({ ...VNET_TINY, seed: 10 + group.rank }));
    const optimizers = groups.map(() => tf.train.adam(0.01));
    try {
      // Rank 0 resumed: one Adam step gives it optimizer slots the others lack.
      const x = tf.ones([1, 4, 4, 4, 1]) as tf.Tensor5D;
      optimizers[0]!.minimize(() => tf.mean(models[0]!.apply(x, true)) as tf.Scalar, false, [
        ...models[0]!.trainableVariables,
      ]);
      x.dispose();
      const starts = await Promise.all(
        groups.map((group) =>
          agreeStartState(group, models[group.rank]!, optimizers[group.rank]!, {
            cursor: group.rank === 0 ? { epoch: 2, step: 7 } : { epoch: 0, step: 0 },
            globalStep: group.rank === 0 ? 57 : 0,
            resumed: group.rank === 0,
          }),
        ),
      );
      for (const start of starts) assert.deepEqual(start, { cursor: { epoch: 2, step: 7 }, globalStep: 57 });
      const hashes = await Promise.all(models.map((model) => weightsSha256(model.trainableVariables)));
      assert.equal(new Set(hashes).size, 1, 'every rank holds the same weights');
      const slots = await Promise.all(models.map((model, r) => readOptimizerState(model, optimizers[r]!)));
      assert.ok(slots[0]!.length > 0);
      for (const rankSlots of slots.slice(1)) assert.deepEqual(rankSlots, slots[0]);
    } finally {
      for (const model of models) model.dispose();
      for (const optimizer of optimizers) optimizer.dispose();
    }
  });
});

describe('encodeStartState', () => {
  it('round-trips names, shapes and float32 bits, and refuses a truncated buffer', () => {
    const state = {
      cursor: { epoch: 1, step: 3 },
      globalStep: 9,
      variables: [{ name: 'enc0/w', shape: [2, 2], values: new Float32Array([1.5, -0, Number.NaN, 3e-39]) }],
      optimizer: [{ name: 'enc0/w/m', shape: [1], values: new Float32Array([0.25]) }],
    };
    const bytes = encodeStartState(state);
    assert.deepEqual(decodeStartState(bytes.slice()), state);
    // At an odd offset too (a received message need not be aligned).
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    assert.deepEqual(decodeStartState(shifted.subarray(1)), state);
    assert.throws(() => decodeStartState(bytes.subarray(0, bytes.length - 4)), /runs past the end/);
  });
});
