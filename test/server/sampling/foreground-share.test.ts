import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochPlan } from '../../../server/sampling/epoch-plan.js';
import { planPosition, stepsInEpoch } from '../../../server/sampling/epoch-steps.js';
import { foregroundSlots } from '../../../server/sampling/foreground-slots.js';
import { planSample, type SampleContext } from '../../../server/sampling/plan-sample.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import { syntheticCatalog } from './synthetic-catalog.js';

const centred = (mode: string) => mode === 'jitter' || mode === 'center';

describe('foreground share per batch', () => {
  it('counts ceil(share * B) slots, float32 shares included', () => {
    assert.equal(foregroundSlots(Math.fround(0.33), 2), 1);
    assert.equal(foregroundSlots(Math.fround(0.33), 3), 1);
    assert.equal(foregroundSlots(Math.fround(1 / 3), 3), 1);
    assert.equal(foregroundSlots(Math.fround(1 / 3), 4), 2);
    assert.equal(foregroundSlots(Math.fround(0.5), 5), 3);
    assert.equal(foregroundSlots(1, 7), 7);
    assert.equal(foregroundSlots(Math.fround(0.01), 1), 1);
  });

  it('gives every rank at least ceil(share * B) nodule-centred samples per batch, the same steps, over many seeds', () => {
    let shortWithout = 0;
    let batches = 0;
    for (let key = 0; key < 24; key++) {
      const series = syntheticCatalog(100 + key, 5);
      const share = Math.fround([0.33, 1 / 3, 0.5, 0.2, 1][key % 5]!);
      const batchSize = [1, 2, 3, 5, 8][key % 5]!;
      const worldSize = [1, 2, 3][key % 3]!;
      const rankGroups = key % 2 === 0 ? 1 : worldSize;
      const options = { negativeProb: 0.6, jitterProb: 0.3, centerProb: 0.1, negativesPerEpoch: 30 + key };
      const plain = resolveSamplingPolicy(options);
      const policy = resolveSamplingPolicy({ ...options, foregroundShare: share });
      const seed = BigInt(key) * 104_729n + 3n;
      const plan = createEpochPlan({ series, policy, seed, epoch: key });
      assert.equal(plan.size, createEpochPlan({ series, policy: plain, seed, epoch: key }).size);
      const steps = stepsInEpoch(plan.size, worldSize, batchSize);
      const layout = { worldSize, batchSize, grouping: { rankGroups, stepsInEpoch: steps } };
      const base = { plan, series, seed, epoch: key, cropSize: [4, 6, 6] as const, batchSize };
      const context: SampleContext = { ...base, policy };
      const plainContext: SampleContext = { ...base, policy: plain };
      const need = foregroundSlots(share, batchSize);
      for (let rank = 0; rank < worldSize; rank++) {
        for (let step = 0; step < steps; step++) {
          let withShare = 0;
          let without = 0;
          for (let slot = 0; slot < batchSize; slot++) {
            const position = planPosition(layout, step, rank, slot);
            const sample = planSample(context, position);
            const before = planSample(plainContext, position);
            if (centred(sample.mode)) withShare++;
            if (centred(before.mode)) without++;
            if (slot < batchSize - need)
              assert.deepEqual(sample, before, 'unforced slots keep their samples');
            else assert.ok(centred(sample.mode), `forced slot ${slot} is ${sample.mode}`);
          }
          batches++;
          assert.ok(
            withShare >= need,
            `rank ${rank} step ${step}: ${withShare} of ${batchSize}, need ${need}`,
          );
          if (without < need) shortWithout++;
        }
      }
    }
    // The control: without the share many batches fall short, so the check above can fail.
    assert.ok(shortWithout > batches * 0.1, `${shortWithout} of ${batches} batches short without the share`);
  });

  it('centres a forced negative item on a nodule item of the epoch, the same on every call', () => {
    const series = syntheticCatalog(7, 6);
    const policy = resolveSamplingPolicy({ negativesPerEpoch: 50, foregroundShare: 1 });
    const plan = createEpochPlan({ series, policy, seed: 9n, epoch: 1 });
    const context: SampleContext = {
      plan,
      series,
      policy,
      seed: 9n,
      epoch: 1,
      cropSize: [4, 4, 4],
      batchSize: 4,
    };
    for (let position = 0; position < plan.size; position++) {
      const sample = planSample(context, position);
      assert.ok(sample.nodule >= 0 && sample.item < plan.items.noduleItems);
      assert.deepEqual(plan.items.item(sample.item), { series: sample.series, nodule: sample.nodule });
      assert.deepEqual(planSample(context, position), sample);
    }
  });
});
