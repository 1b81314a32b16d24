import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { createEpochItems } from '../../../server/sampling/epoch-items.js';
import { epochPermutation } from '../../../server/sampling/epoch-permutation.js';
import { createEpochPlan, epochPlanSteps } from '../../../server/sampling/epoch-plan.js';
import { DEFAULT_SAMPLING_POLICY, type SamplingPolicy } from '../../../server/sampling/types.js';
import { syntheticCatalog } from './synthetic-catalog.js';

const policy: SamplingPolicy = { ...DEFAULT_SAMPLING_POLICY, samplesPerNodule: 3, negativesPerEpoch: 5 };

describe('createEpochPlan', () => {
  it('bundles the epoch items and their permutation', () => {
    const series = syntheticCatalog(1, 6);
    const plan = createEpochPlan({ series, policy, seed: 77n, epoch: 2 });
    const items = createEpochItems({ series, policy, seed: 77n, epoch: 2 });
    assert.equal(plan.size, items.size);
    for (let index = 0; index < items.size; index++)
      assert.deepEqual(plan.items.item(index), items.item(index));
    assert.deepEqual(plan.order, epochPermutation(items.size, 77n, 2));
    assert.equal(plan.seed, 77n);
    assert.equal(plan.epoch, 2);
    assert.equal(plan.bytes, plan.order.byteLength + items.bytes);
  });

  it('builds the same plan step by step, each step a bounded part of the work', () => {
    const big = { ...policy, samplesPerNodule: 100, negativesPerEpoch: 200_000 };
    for (const shuffleWindow of [0, 3]) {
      const series = syntheticCatalog(9, 20);
      const steps = epochPlanSteps({ series, policy: { ...big, shuffleWindow }, seed: 5n, epoch: 1 });
      let count = 0;
      let next = steps.next();
      for (; next.done !== true; next = steps.next()) count++;
      const plan = next.value;
      assert.deepEqual(
        plan.order,
        createEpochPlan({ series, policy: { ...big, shuffleWindow }, seed: 5n, epoch: 1 }).order,
      );
      // At least one pause per 8192 swaps: a plan never runs as one long piece.
      assert.ok(count >= plan.size / 8192, `window ${shuffleWindow}: ${count} steps for ${plan.size} items`);
    }
  });

  it('maps position p to item order[p % n], wrapping past the end', () => {
    const plan = createEpochPlan({ series: syntheticCatalog(2, 5), policy, seed: 3n, epoch: 0 });
    const n = plan.size;
    for (let p = 0; p < 3 * n + 1; p++) assert.equal(plan.itemAt(p), plan.order[p % n]);
    assert.equal(plan.itemAt(Number.MAX_SAFE_INTEGER), plan.order[Number.MAX_SAFE_INTEGER % n]);
  });

  it('visits every item exactly once in the first n positions', () => {
    for (let key = 0; key < 20; key++) {
      const plan = createEpochPlan({
        series: syntheticCatalog(key, 4),
        policy,
        seed: BigInt(key),
        epoch: key,
      });
      const seen = new Set<number>();
      for (let p = 0; p < plan.size; p++) seen.add(plan.itemAt(p));
      assert.equal(seen.size, plan.size);
    }
  });

  it('refuses a position that is negative, fractional or past 2^53', () => {
    const plan = createEpochPlan({ series: syntheticCatalog(3, 3), policy, seed: 1n, epoch: 0 });
    for (const position of [-1, 0.5, 2 ** 53]) {
      assert.throws(
        () => plan.itemAt(position),
        (error: unknown) => error instanceof VoxelfeedError && error.code === 'INVALID_ARGUMENT',
      );
    }
  });
});
