import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlanCache } from '../../../server/batches/plan-cache.js';
import type { CatalogSeries } from '../../../server/dataset/catalog/catalog.js';
import { VoxelfeedError } from '../../../server/errors.js';
import { createEpochPlan, type EpochPlan } from '../../../server/sampling/epoch-plan.js';
import { planWithoutSeries } from '../../../server/sampling/plan-without-series.js';
import { DEFAULT_SAMPLING_POLICY, type SamplingPolicy } from '../../../server/sampling/types.js';
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
  for (let index = 0; index < plan.size; index++) {
    const series = plan.items.seriesOf(index);
    if (!skip.has(series)) return series;
  }
  assert.fail('the plan has an item outside the bad set');
}

describe('PlanCache', () => {
  it('builds a plan once per (seed, epoch, policy) and returns the same object after', async () => {
    const series = catalogSeries(3, 8);
    const plans = new PlanCache(series);
    const first = await plans.get(policy, 7n, 2);
    assert.deepEqual(order(first), order(createEpochPlan({ series, policy, seed: 7n, epoch: 2 })));
    assert.equal(await plans.get(policy, 7n, 2), first);
    assert.notEqual(await plans.get(policy, 7n, 3), first);
    assert.equal(plans.buildCount, 2);
  });

  it('shares one build among the requests that ask for a plan while it is being built', async () => {
    const series = catalogSeries(4, 12);
    const plans = new PlanCache(series);
    const big = { ...policy, negativesPerEpoch: 50_000 };
    const asked = Array.from({ length: 6 }, () => plans.get(big, 21n, 0));
    const got = await Promise.all(asked);
    assert.equal(plans.buildCount, 1);
    for (const plan of got) assert.equal(plan, got[0]);
    assert.deepEqual(order(got[0]!), order(createEpochPlan({ series, policy: big, seed: 21n, epoch: 0 })));
  });

  it('keeps plans within its byte bound, least recently used out, and counts what it holds', async () => {
    const series = catalogSeries(6, 10);
    const sized = { ...policy, negativesPerEpoch: 65_536 }; // 256 KiB of order per plan
    const maxBytes = 10 * 2 ** 20;
    const plans = new PlanCache(series, { maxBytes });
    const held: EpochPlan[] = [];
    for (let seed = 0n; seed < 120n; seed++) {
      held.push(await plans.get(sized, seed, 0));
      assert.ok(plans.heldBytes <= maxBytes, `${plans.heldBytes} bytes held after ${seed + 1n} plans`);
    }
    const perPlan = held[0]!.bytes;
    assert.ok(perPlan >= 4 * held[0]!.size, `a plan counts its order: ${perPlan} bytes`);
    // What it holds: about maxBytes / perPlan plans, each counted at least at its order's size.
    assert.ok(plans.heldCount * perPlan <= maxBytes, `${plans.heldCount} plans of ${perPlan} bytes`);
    assert.ok(
      plans.heldCount >= Math.floor(maxBytes / (perPlan + 1024)) - 1,
      `${plans.heldCount} plans held`,
    );
    assert.ok(plans.heldBytes >= plans.heldCount * perPlan);
    assert.equal(plans.buildCount, 120);
    // The most recent plan is still kept; the first was evicted long ago and is built again.
    assert.equal(await plans.get(sized, 119n, 0), held[119]);
    assert.equal(plans.buildCount, 120);
    const again = await plans.get(sized, 0n, 0);
    assert.notEqual(again, held[0]);
    assert.deepEqual(order(again), order(held[0]!));
    assert.equal(plans.buildCount, 121);
    assert.equal(plans.oversizeCount, 0);
  });

  it('serves a plan larger than its whole bound without keeping it', async () => {
    const series = catalogSeries(7, 10);
    const huge = { ...policy, negativesPerEpoch: 300_000 }; // 1.2 MB of order
    const plans = new PlanCache(series, { maxBytes: 2 ** 20 });
    const small = await plans.get(policy, 1n, 0);
    const [first, second] = await Promise.all([plans.get(huge, 5n, 0), plans.get(huge, 5n, 0)]);
    assert.equal(first, second, 'requests during the build share it');
    assert.deepEqual(order(first!), order(createEpochPlan({ series, policy: huge, seed: 5n, epoch: 0 })));
    assert.equal(plans.oversizeCount, 1);
    assert.equal(plans.heldCount, 1, 'only the small plan is kept');
    assert.ok(plans.heldBytes < 2 ** 20);
    assert.equal(await plans.get(policy, 1n, 0), small, 'the oversize plan evicted nothing');
    const later = await plans.get(huge, 5n, 0);
    assert.notEqual(later, first, 'built again: it was not kept');
    assert.equal(plans.buildCount, 3);
  });

  it('lets timers run while it builds a million-item plan and its replacement', async () => {
    const series = catalogSeries(8, 30);
    const plans = new PlanCache(series);
    const huge = { ...policy, samplesPerNodule: 1000, negativesPerEpoch: 1_000_000, shuffleWindow: 4 };
    let ticks = 0;
    let last = performance.now();
    let longestGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
      ticks++;
    }, 1);
    try {
      const started = performance.now();
      const plan = await plans.get(huge, 99n, 0);
      const bad = new Set([seriesWithItems(plan, new Set())]);
      await plans.withoutBadSeries(plan, bad);
      const seconds = (performance.now() - started) / 1000;
      assert.ok(plan.size > 1_000_000);
      // Built at once, the plan would let no timer fire until it is done (over a second of work).
      assert.ok(ticks >= 20, `${ticks} timer ticks in ${seconds.toFixed(2)} s of building`);
      assert.ok(longestGap < (seconds * 1000) / 4, `longest gap ${longestGap.toFixed(0)} ms of ${seconds} s`);
    } finally {
      clearInterval(timer);
    }
  });

  it('counts a replacement plan in the entry of its plan', async () => {
    const series = catalogSeries(9, 10);
    const plans = new PlanCache(series);
    const plan = await plans.get({ ...policy, negativesPerEpoch: 40_000 }, 3n, 0);
    const before = plans.heldBytes;
    const replaced = await plans.withoutBadSeries(plan, new Set([seriesWithItems(plan, new Set())]));
    assert.notEqual(replaced, plan);
    assert.equal(plans.heldBytes, before - plan.bytes + replaced.bytes);
    assert.ok(replaced.bytes > plan.bytes);
  });

  it('answers a plan that cannot be built with its error to every caller, and keeps nothing', async () => {
    const series = catalogSeries(1, 2).map((entry) => ({ ...entry, nodules: [] }));
    const plans = new PlanCache(series);
    const empty = { ...policy, negativesPerEpoch: 0 };
    const refused = (error: unknown) =>
      error instanceof VoxelfeedError &&
      error.code === 'FAILED_PRECONDITION' &&
      /negatives_per_epoch/.test(error.message);
    await Promise.all([
      assert.rejects(plans.get(empty, 1n, 0), refused),
      assert.rejects(plans.get(empty, 1n, 0), refused),
    ]);
    await assert.rejects(plans.get(empty, 1n, 0), refused);
    assert.equal(plans.buildCount, 0);
    assert.equal(plans.heldCount, 0);
  });

  describe('withoutBadSeries', () => {
    it('returns the plan itself while no series is bad, building nothing', async () => {
      const plans = new PlanCache(catalogSeries(3, 8));
      const plan = await plans.get(policy, 7n, 2);
      assert.equal(await plans.withoutBadSeries(plan, new Set()), plan);
      assert.equal(plans.replacementBuildCount, 0);
    });

    it('returns the same replacement for the same plan and bad-set size, and a new one after the set grows', async () => {
      const plans = new PlanCache(catalogSeries(5, 10));
      const plan = await plans.get(policy, 11n, 1);
      const bad = new Set<number>(); // grows like VolumeCache.failedKeys
      bad.add(seriesWithItems(plan, bad));
      const first = await plans.withoutBadSeries(plan, bad);
      assert.notEqual(first, plan);
      assert.equal(await plans.withoutBadSeries(plan, bad), first);
      assert.equal(plans.replacementBuildCount, 1);

      bad.add(seriesWithItems(plan, bad));
      const second = await plans.withoutBadSeries(plan, bad);
      assert.notEqual(second, first);
      assert.equal(await plans.withoutBadSeries(plan, bad), second);
      assert.equal(plans.replacementBuildCount, 2);
      assert.ok(order(second).every((item) => !bad.has(plan.items.seriesOf(item))));
    });

    it('serves the items planWithoutSeries gives for the same plan and bad set', async () => {
      for (let key = 0; key < 20; key++) {
        const series = catalogSeries(key, 4 + (key % 5));
        const plans = new PlanCache(series);
        const plan = await plans.get(policy, BigInt(key), key % 3);
        const bad = new Set<number>();
        bad.add(seriesWithItems(plan, bad));
        const cached = await plans.withoutBadSeries(plan, bad);
        const direct = planWithoutSeries(plan, new Set(bad));
        assert.deepEqual(order(cached), order(direct), `key ${key}`);
        assert.equal(cached.items, plan.items);
        // And independently of planWithoutSeries: no position serves a bad series; good ones keep their item.
        for (let position = 0; position < plan.size; position++) {
          const before = plan.itemAt(position);
          const after = cached.itemAt(position);
          assert.ok(!bad.has(plan.items.seriesOf(after)), `key ${key} position ${position}`);
          if (!bad.has(plan.items.seriesOf(before)))
            assert.equal(after, before, `key ${key} position ${position}`);
        }
      }
    });

    it('keeps one replacement per plan: each plan of the cache has its own', async () => {
      const plans = new PlanCache(catalogSeries(9, 10));
      const a = await plans.get(policy, 1n, 0);
      const b = await plans.get(policy, 1n, 1);
      const bad = new Set<number>([seriesWithItems(a, new Set())]);
      const fromA = await plans.withoutBadSeries(a, bad);
      const fromB = await plans.withoutBadSeries(b, bad);
      assert.equal(fromA.epoch, 0);
      assert.equal(fromB.epoch, 1);
      assert.equal(await plans.withoutBadSeries(a, bad), fromA);
      assert.equal(await plans.withoutBadSeries(b, bad), fromB);
    });

    it('rebuilds for another set object of the same size, so two sets cannot share a stale replacement', async () => {
      const plans = new PlanCache(catalogSeries(5, 10));
      const plan = await plans.get(policy, 11n, 1);
      const first = seriesWithItems(plan, new Set());
      const second = seriesWithItems(plan, new Set([first]));
      const one = await plans.withoutBadSeries(plan, new Set([first]));
      const other = await plans.withoutBadSeries(plan, new Set([second]));
      assert.deepEqual(order(other), order(planWithoutSeries(plan, new Set([second]))));
      assert.notDeepEqual(order(other), order(one));
    });
  });
});
