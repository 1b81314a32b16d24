import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { FeedBatch } from '@voxelfeed/client';
import { silenceCpuBanner } from '../../../trainer/backend/silence-cpu-banner.js';
import { weightsSha256 } from '../../../trainer/checkpoint/weights-sha256.js';
import { TfjsStepRunner } from '../../../trainer/loop/tfjs-step-runner.js';
import { createVNet } from '../../../trainer/model/vnet.js';
import { VNET_TINY } from '../../../trainer/model/vnet-config.js';
import { inProcessGroups } from '../../support/in-process-group.js';

const SHAPE = [2, 8, 8, 8] as const;

/** A uint8 batch whose content depends on (rank, step), so ranks train on different data. */
function batch(rank: number, step: number): FeedBatch {
  const [b, s0, s1, s2] = SHAPE;
  const size = b * s0 * s1 * s2;
  const image = new Uint8Array(size);
  const mask = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    mask[i] = (i * 7 + rank * 13 + step * 5) % 11 < 3 ? 1 : 0;
    image[i] = (mask[i]! * 180 + ((i * 31 + rank * 17 + step) % 60)) & 0xff;
  }
  return {
    epoch: 0,
    step,
    stepsInEpoch: 100,
    rank,
    worldSize: 2,
    shape: SHAPE,
    dtype: 'uint8',
    image,
    mask,
    samples: [],
    wireBytes: 0,
  };
}

function rankRunner(group?: ReturnType<typeof inProcessGroups>['groups'][number]) {
  const model = createVNet({ ...VNET_TINY, seed: 5 });
  const optimizer = tf.train.adam(0.01);
  const runner = new TfjsStepRunner(model, optimizer, false, undefined, group ? { group } : {});
  return {
    model,
    runner,
    dispose() {
      model.dispose();
      optimizer.dispose();
    },
  };
}

describe('TfjsStepRunner with several ranks', () => {
  before(async () => {
    await tf.setBackend('cpu');
    silenceCpuBanner();
  });

  it('leaves every rank with bit-identical weights after N steps on different batches, leaking no tensor', async () => {
    const { groups } = inProcessGroups(2);
    const ranks = groups.map((group) => rankRunner(group));
    const alone = rankRunner();
    try {
      const initial = await weightsSha256(ranks[0]!.model.trainableVariables);
      const tensorsAfter: number[] = [];
      for (let step = 0; step < 4; step++) {
        const results = await Promise.all(
          ranks.map((rank, r) => rank.runner.execute(rank.runner.prepare(batch(r, step)))),
        );
        await alone.runner.execute(alone.runner.prepare(batch(0, step)));
        assert.notEqual(results[0]!.loss, results[1]!.loss, 'the ranks saw different batches');
        assert.equal(results[0]!.meanLoss, results[1]!.meanLoss);
        assert.ok(Math.abs(results[0]!.meanLoss! - (results[0]!.loss + results[1]!.loss) / 2) < 1e-6);
        assert.ok(results[0]!.allReduceSeconds! >= 0);
        tensorsAfter.push(tf.memory().numTensors);
      }
      const [first, second] = await Promise.all(
        ranks.map((rank) => weightsSha256(rank.model.trainableVariables)),
      );
      assert.equal(first, second, 'both ranks hold the same weights');
      assert.notEqual(first, initial, 'the weights changed');
      // A rank training alone on rank 0's batches ends elsewhere: the exchange is what made them agree.
      assert.notEqual(await weightsSha256(alone.model.trainableVariables), first);
      assert.deepEqual(tensorsAfter.slice(1), Array(tensorsAfter.length - 1).fill(tensorsAfter[1]));
    } finally {
      for (const rank of [...ranks, alone]) rank.dispose();
    }
  });

  it("rejects a step with the lost rank's message once a rank is lost, and every later step too", async () => {
    const { groups, lose } = inProcessGroups(2);
    const rank0 = rankRunner(groups[0]);
    try {
      const tensorsBefore = tf.memory().numTensors;
      // Rank 1 never arrives: rank 0 waits in the exchange until the group reports rank 1 lost.
      const waiting = rank0.runner.execute(rank0.runner.prepare(batch(0, 0)));
      const next = rank0.runner.execute(rank0.runner.prepare(batch(0, 1)));
      setImmediate(() => lose(1));
      await assert.rejects(waiting, /rank 1 \(in process\) left the job: .*restart the job with --resume/);
      await assert.rejects(next, /rank 1/);
      await assert.rejects(groups[0]!.failure, /rank 1/);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'the failed steps freed their tensors');
    } finally {
      rank0.dispose();
    }
  });
});
