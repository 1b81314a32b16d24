import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { createEpochPlan, type EpochPlan } from '../../../server/sampling/epoch-plan.js';
import { runPlanSteps } from '../../../server/sampling/plan-steps.js';
import {
  planWithoutSeries,
  planWithoutSeriesSteps,
  replacementKey,
} from '../../../server/sampling/plan-without-series.js';
import { createRng, RngPurpose } from '../../../server/sampling/rng.js';
import {
  DEFAULT_SAMPLING_POLICY,
  type PlanItem,
  type SamplingPolicy,
} from '../../../server/sampling/types.js';
import { syntheticCatalog } from './synthetic-catalog.js';

const policy: SamplingPolicy = { ...DEFAULT_SAMPLING_POLICY, samplesPerNodule: 2, negativesPerEpoch: 12 };

/** A random non-empty, non-full subset of 0..count-1, deterministic in `key`. */
function someSeries(key: number, count: number): Set<number> {
  const rng = createRng([key, RngPurpose.synth, 99]);
  const bad = new Set<number>();
  const size = rng.nextInt(1, count - 1);
  while (bad.size < size) bad.add(rng.nextInt(0, count - 1));
  return bad;
}

function positions(plan: EpochPlan): number[] {
  return Array.from({ length: plan.size }, (_, p) => p);
}

/** Every item of the plan's epoch, in item order. */
function allItems(plan: EpochPlan): PlanItem[] {
  return Array.from({ length: plan.size }, (_, index) => plan.items.item(index));
}

/** The item of every position of the first epoch. */
function served(plan: EpochPlan): number[] {
  return positions(plan).map((p) => plan.itemAt(p));
}

function isNegative(plan: EpochPlan, item: number): boolean {
  return plan.items.item(item).nodule < 0;
}

describe('planWithoutSeries', () => {
  it('returns the plan itself when no item of the epoch lies in a bad series', () => {
    const series = syntheticCatalog(4, 6);
    // Series 1 of a synthetic catalog has no nodules; without negatives it has no items at all.
    const plan = createEpochPlan({ series, policy: { ...policy, negativesPerEpoch: 0 }, seed: 5n, epoch: 1 });
    assert.ok(allItems(plan).every((item) => item.series !== 1));
    assert.equal(planWithoutSeries(plan, new Set()), plan);
    assert.equal(planWithoutSeries(plan, new Set([1, 99])), plan);
  });

  it('keeps every position of a good series and serves no item of a bad series, over many catalogs', () => {
    for (let key = 0; key < 40; key++) {
      const series = syntheticCatalog(key, 3 + (key % 6));
      const plan = createEpochPlan({ series, policy, seed: BigInt(key), epoch: key % 5 });
      const bad = someSeries(key, series.length);
      const replaced = planWithoutSeries(plan, bad);
      let changed = 0;
      for (const p of positions(plan)) {
        const before = plan.itemAt(p);
        const after = replaced.itemAt(p);
        assert.ok(!bad.has(replaced.items.item(after).series), `key ${key} position ${p}`);
        if (bad.has(plan.items.item(before).series)) changed++;
        else assert.equal(after, before, `key ${key} position ${p} was good`);
      }
      assert.equal(replaced.size, plan.size);
      assert.equal(replaced.items, plan.items);
      assert.ok(changed > 0 || replaced === plan, `key ${key}`);
    }
  });

  it('replaces a nodule by a nodule and a negative by a negative while the epoch has good ones', () => {
    for (let key = 0; key < 30; key++) {
      const series = syntheticCatalog(key, 6);
      const plan = createEpochPlan({ series, policy, seed: 11n, epoch: key });
      const bad = new Set([0]); // series 0 always has nodules (syntheticCatalog: s % 3 !== 1)
      const replaced = planWithoutSeries(plan, bad);
      const goodNegativesLeft = allItems(plan).some((item) => item.nodule < 0 && item.series !== 0);
      for (const p of positions(plan)) {
        const before = plan.itemAt(p);
        if (plan.items.item(before).series !== 0) continue;
        const after = replaced.itemAt(p);
        if (isNegative(plan, before) && !goodNegativesLeft) assert.equal(isNegative(plan, after), false);
        else assert.equal(isNegative(plan, after), isNegative(plan, before), `key ${key} position ${p}`);
      }
    }
  });

  it('falls back to the other kind when every item of a kind lies in a bad series', () => {
    const series = syntheticCatalog(8, 6);
    const plan = createEpochPlan({ series, policy: { ...policy, negativesPerEpoch: 0 }, seed: 3n, epoch: 0 });
    const withNodules = new Set(allItems(plan).map((item) => item.series));
    const keep = [...withNodules][0]!;
    const bad = new Set([...withNodules].filter((s) => s !== keep));
    const replaced = planWithoutSeries(plan, bad);
    for (const p of positions(plan)) assert.equal(replaced.items.item(replaced.itemAt(p)).series, keep);
    // Only negatives left: nodule items become negatives of good series.
    const mixed = createEpochPlan({ series, policy, seed: 3n, epoch: 0 });
    const allNoduleSeries = new Set(
      allItems(mixed)
        .filter((i) => i.nodule >= 0)
        .map((i) => i.series),
    );
    const survivors = planWithoutSeries(mixed, allNoduleSeries);
    for (const p of positions(mixed)) {
      const item = survivors.items.item(survivors.itemAt(p));
      assert.ok(item.nodule < 0 && !allNoduleSeries.has(item.series), `position ${p}`);
    }
  });

  it('depends on the set of bad series only, not on its order, and ignores later changes to it', () => {
    const series = syntheticCatalog(21, 8);
    const plan = createEpochPlan({ series, policy, seed: 123n, epoch: 4 });
    const forward = new Set([1, 2, 5]);
    const replaced = planWithoutSeries(plan, forward);
    const backward = planWithoutSeries(
      createEpochPlan({ series, policy, seed: 123n, epoch: 4 }),
      new Set([5, 2, 1]),
    );
    assert.deepEqual(served(replaced), served(backward));
    forward.add(0);
    for (const p of positions(plan)) assert.equal(replaced.itemAt(p), backward.itemAt(p));
  });

  it('in steps, replaces the series bad when the steps were made, whatever the set holds by the first step', () => {
    const series = syntheticCatalog(21, 8);
    const plan = createEpochPlan({ series, policy, seed: 123n, epoch: 4 });
    const bad = new Set([1, 2]);
    const steps = planWithoutSeriesSteps(plan, bad);
    bad.add(5); // found bad while the steps waited their turn
    assert.deepEqual(served(runPlanSteps(steps)), served(planWithoutSeries(plan, new Set([1, 2]))));
  });

  it('draws each replacement from the stream of its own position, so other positions do not matter', () => {
    const series = syntheticCatalog(30, 8);
    const plan = createEpochPlan({ series, policy, seed: 9n, epoch: 2 });
    const bad = new Set([0, 3]);
    const replaced = planWithoutSeries(plan, bad);
    const goodOfKind = (negative: boolean) =>
      allItems(plan).flatMap((item, index) =>
        !bad.has(item.series) && item.nodule < 0 === negative ? [index] : [],
      );
    const pools = { negative: goodOfKind(true), nodule: goodOfKind(false) };
    let checked = 0;
    for (const p of positions(plan)) {
      const planned = plan.itemAt(p);
      if (!bad.has(plan.items.item(planned).series)) continue;
      const pool = isNegative(plan, planned) ? pools.negative : pools.nodule;
      const draw = createRng(replacementKey(9n, 2, p)).nextInt(0, pool.length - 1);
      assert.equal(replaced.itemAt(p), pool[draw], `position ${p}`);
      checked++;
    }
    assert.ok(checked > 5, `${checked} replaced positions`);
    // Another seed draws other replacements for the same positions.
    const other = planWithoutSeries(createEpochPlan({ series, policy, seed: 10n, epoch: 2 }), bad);
    assert.notDeepEqual(served(other), served(replaced));
  });

  it('spreads replacements over the good series in proportion to their items of the kind', () => {
    const series = syntheticCatalog(40, 4);
    const plan = createEpochPlan({
      series,
      policy: { ...policy, samplesPerNodule: 1, negativesPerEpoch: 4000 },
      seed: 1n,
      epoch: 0,
    });
    const bad = new Set([0]);
    const replaced = planWithoutSeries(plan, bad);
    const drawn = new Map<number, number>();
    let draws = 0;
    for (const p of positions(plan)) {
      const planned = plan.itemAt(p);
      if (bad.has(plan.items.item(planned).series) && isNegative(plan, planned)) {
        const target = replaced.items.item(replaced.itemAt(p)).series;
        drawn.set(target, (drawn.get(target) ?? 0) + 1);
        draws++;
      }
    }
    const negativesOf = (s: number) =>
      allItems(plan).filter((item) => item.nodule < 0 && item.series === s).length;
    const goodNegatives = [1, 2, 3].reduce((sum, s) => sum + negativesOf(s), 0);
    assert.ok(draws > 500, `${draws} replaced negatives`);
    for (const s of [1, 2, 3]) {
      const expected = (draws * negativesOf(s)) / goodNegatives;
      // A binomial count: 5 standard deviations at most.
      const sd = Math.sqrt(expected * (1 - negativesOf(s) / goodNegatives));
      const seen = drawn.get(s) ?? 0;
      assert.ok(Math.abs(seen - expected) < 5 * sd + 1, `series ${s}: ${seen} draws, expected ${expected}`);
    }
  });

  it('wraps positions past the end like the plan, and refuses positions the plan refuses', () => {
    const plan = createEpochPlan({ series: syntheticCatalog(5, 5), policy, seed: 2n, epoch: 0 });
    const replaced = planWithoutSeries(plan, new Set([0]));
    for (const p of positions(plan)) assert.equal(replaced.itemAt(p + 2 * plan.size), replaced.itemAt(p));
    for (const position of [-1, 0.5, 2 ** 53]) {
      assert.throws(
        () => replaced.itemAt(position),
        (error: unknown) => error instanceof VoxelfeedError && error.code === 'INVALID_ARGUMENT',
      );
    }
  });

  it('refuses with DATA_LOSS when every series of the epoch is bad', () => {
    const series = syntheticCatalog(6, 4);
    const plan = createEpochPlan({ series, policy, seed: 2n, epoch: 7 });
    assert.throws(
      () => planWithoutSeries(plan, new Set(series.map((_, index) => index))),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'DATA_LOSS' &&
        error.message.includes('epoch 7') &&
        error.message.includes('4 series bad'),
    );
  });
});
