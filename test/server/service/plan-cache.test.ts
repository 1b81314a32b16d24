import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CatalogSeries } from '../../../server/dataset/catalog.js';
import { createEpochPlan, type EpochPlan } from '../../../server/sampling/epoch-plan.js';
import { planWithoutSeries } from '../../../server/sampling/plan-without-series.js';
import { DEFAULT_SAMPLING_POLICY, type SamplingPolicy } from '../../../server/sampling/types.js';
import { PlanCache } from '../../../server/service/plan-cache.js';
import { syntheticCatalog } from '../sampling/synthetic-catalog.js';

const policy: SamplingPolicy = { ...DEFAULT_SAMPLING_POLICY, samplesPerNodule: 2, negativesPerEpoch: 12 };

/** A synthetic catalog as the server holds it (sampling reads only the summary fields). */
function catalogSeries(key: number, count: number): CatalogSeries[] {
  return syntheticCatalog(key, count).map((summary) => ({
    ...summary,
    imagePath: `${summary.uid}.nrrd`,
    maskPath: `${summary.uid}-mask.nrrd`,
    boxesPath: `${summary.uid}.json`,
  }));
}

function order(plan: EpochPlan): number[] {
  return Array.from({ length: plan.size }, (_, position) => plan.itemAt(position));
}

/** A catalog index whose series has items in `plan` (so marking it bad changes the plan). */
function seriesWithItems(plan: EpochPlan, skip: ReadonlySet<number>): number {
  const found = plan.items.find((item) => !skip.has(item.series));
  assert.ok(found !== undefined, 'the plan has an item outside the bad set');
  return found.series;
}

describe('PlanCache', () => {
  it('builds a plan once per (seed, epoch, policy) and returns the same object after', () => {
    const series = catalogSeries(3, 8);
    const plans = new PlanCache(series);
    const first = plans.get(policy, 7n, 2);
    assert.deepEqual(order(first), order(createEpochPlan(series, policy, 7n, 2)));
    assert.equal(plans.get(policy, 7n, 2), first);
    assert.notEqual(plans.get(policy, 7n, 3), first);
    assert.equal(plans.buildCount, 2);
  });

  describe('withoutBadSeries', () => {
    it('returns the plan itself while no series is bad, building nothing', () => {
      const plans = new PlanCache(catalogSeries(3, 8));
      const plan = plans.get(policy, 7n, 2);
      assert.equal(plans.withoutBadSeries(plan, new Set()), plan);
      assert.equal(plans.replacementBuildCount, 0);
    });

    it('returns the same replacement for the same plan and bad-set size, and a new one after the set grows', () => {
      const plans = new PlanCache(catalogSeries(5, 10));
      const plan = plans.get(policy, 11n, 1);
      const bad = new Set<number>(); // grows like VolumeCache.failedKeys
      bad.add(seriesWithItems(plan, bad));
      const first = plans.withoutBadSeries(plan, bad);
      assert.notEqual(first, plan);
      assert.equal(plans.withoutBadSeries(plan, bad), first);
      assert.equal(plans.replacementBuildCount, 1);

      bad.add(seriesWithItems(plan, bad));
      const second = plans.withoutBadSeries(plan, bad);
      assert.notEqual(second, first);
      assert.equal(plans.withoutBadSeries(plan, bad), second);
      assert.equal(plans.replacementBuildCount, 2);
      assert.ok(order(second).every((item) => !bad.has(plan.items[item]!.series)));
    });

    it('serves the items planWithoutSeries gives for the same plan and bad set', () => {
      for (let key = 0; key < 20; key++) {
        const series = catalogSeries(key, 4 + (key % 5));
        const plans = new PlanCache(series);
        const plan = plans.get(policy, BigInt(key), key % 3);
        const bad = new Set<number>();
        bad.add(seriesWithItems(plan, bad));
        const cached = plans.withoutBadSeries(plan, bad);
        const direct = planWithoutSeries(plan, new Set(bad));
        assert.deepEqual(order(cached), order(direct), `key ${key}`);
        assert.equal(cached.items, direct.items);
        // And independently of planWithoutSeries: no position serves a bad series; good ones keep their item.
        for (let position = 0; position < plan.size; position++) {
          const before = plan.itemAt(position);
          const after = cached.itemAt(position);
          assert.ok(!bad.has(plan.items[after]!.series), `key ${key} position ${position}`);
          if (!bad.has(plan.items[before]!.series))
            assert.equal(after, before, `key ${key} position ${position}`);
        }
      }
    });

    it('keeps one replacement per plan: each plan of the cache has its own', () => {
      const plans = new PlanCache(catalogSeries(9, 10));
      const a = plans.get(policy, 1n, 0);
      const b = plans.get(policy, 1n, 1);
      const bad = new Set<number>([seriesWithItems(a, new Set())]);
      const fromA = plans.withoutBadSeries(a, bad);
      const fromB = plans.withoutBadSeries(b, bad);
      assert.equal(fromA.epoch, 0);
      assert.equal(fromB.epoch, 1);
      assert.equal(plans.withoutBadSeries(a, bad), fromA);
      assert.equal(plans.withoutBadSeries(b, bad), fromB);
    });

    it('rebuilds for another set object of the same size, so two sets cannot share a stale replacement', () => {
      const plans = new PlanCache(catalogSeries(5, 10));
      const plan = plans.get(policy, 11n, 1);
      const first = seriesWithItems(plan, new Set());
      const second = seriesWithItems(plan, new Set([first]));
      const one = plans.withoutBadSeries(plan, new Set([first]));
      const other = plans.withoutBadSeries(plan, new Set([second]));
      assert.deepEqual(order(other), order(planWithoutSeries(plan, new Set([second]))));
      assert.notDeepEqual(order(other), order(one));
    });
  });
});
