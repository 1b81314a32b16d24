import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createEpochPlan, type EpochPlan } from '../../../server/sampling/epoch-plan.js';
import {
  negativeSeriesKey,
  permutationKey,
  seriesOrderKey,
  windowShuffleKey,
} from '../../../server/sampling/plan-keys.js';
import { planWithoutSeries, replacementKey } from '../../../server/sampling/plan-without-series.js';
import { createRng, type Rng } from '../../../server/sampling/rng.js';
import { eligibleSeries, type SeriesSplit } from '../../../server/sampling/series-split.js';
import {
  DEFAULT_SAMPLING_POLICY,
  type PlanItem,
  type SamplingPolicy,
  type SeriesSummary,
} from '../../../server/sampling/types.js';
import { syntheticCatalog } from './synthetic-catalog.js';

/*
 * The plan order is part of the determinism contract: replicas of different versions must serve the same
 * batches. Below is the plan as it was first built, item objects and all, in O(n) at once; the plans served
 * now (lazy items, order built in steps) must equal it position by position.
 */

function referenceShuffle(values: number[], rng: Rng): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.nextInt(0, i);
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
}

function referenceItems(
  series: readonly SeriesSummary[],
  policy: SamplingPolicy,
  seed: bigint,
  epoch: number,
  eligible: readonly number[],
): PlanItem[] {
  const items: PlanItem[] = [];
  for (const s of eligible) {
    for (let nodule = 0; nodule < series[s]!.nodules.length; nodule++) {
      for (let k = 0; k < policy.samplesPerNodule; k++) items.push({ series: s, nodule });
    }
  }
  const last = eligible.length - 1;
  for (let j = 0; j < policy.negativesPerEpoch; j++) {
    const pick = last === 0 ? 0 : createRng(negativeSeriesKey(seed, epoch, j)).nextInt(0, last);
    items.push({ series: eligible[pick]!, nodule: -1 });
  }
  return items;
}

function referenceOrder(items: readonly PlanItem[], window: number, seed: bigint, epoch: number): number[] {
  if (window === 0) {
    const order = items.map((_, i) => i);
    referenceShuffle(order, createRng(permutationKey(seed, epoch)));
    return order;
  }
  const bySeries = new Map<number, number[]>();
  items.forEach((item, index) => {
    const list = bySeries.get(item.series);
    if (list === undefined) bySeries.set(item.series, [index]);
    else list.push(index);
  });
  const seriesOrder = [...bySeries.keys()].sort((a, b) => a - b);
  referenceShuffle(seriesOrder, createRng(seriesOrderKey(seed, epoch)));
  const order: number[] = [];
  for (let start = 0, w = 0; start < seriesOrder.length; start += window, w++) {
    const members = seriesOrder.slice(start, start + window).flatMap((s) => bySeries.get(s)!);
    referenceShuffle(members, createRng(windowShuffleKey(seed, epoch, w)));
    order.push(...members);
  }
  return order;
}

function referenceWithout(
  items: readonly PlanItem[],
  order: readonly number[],
  bad: ReadonlySet<number>,
  seed: bigint,
  epoch: number,
): number[] {
  const goodNodules: number[] = [];
  const goodNegatives: number[] = [];
  items.forEach((item, index) => {
    if (!bad.has(item.series)) (item.nodule < 0 ? goodNegatives : goodNodules).push(index);
  });
  return order.map((item, position) => {
    const planned = items[item]!;
    if (!bad.has(planned.series)) return item;
    const sameKind = planned.nodule < 0 ? goodNegatives : goodNodules;
    const pool = sameKind.length > 0 ? sameKind : planned.nodule < 0 ? goodNodules : goodNegatives;
    return pool[createRng(replacementKey(seed, epoch, position)).nextInt(0, pool.length - 1)]!;
  });
}

function servedOrder(plan: EpochPlan): number[] {
  return Array.from({ length: plan.size }, (_, position) => plan.itemAt(position));
}

function servedItems(plan: EpochPlan): PlanItem[] {
  return Array.from({ length: plan.size }, (_, index) => plan.items.item(index));
}

const SPLITS: SeriesSplit[] = [
  { holdoutFraction: 0, part: 'all' },
  { holdoutFraction: 0.3, part: 'train' },
  { holdoutFraction: 0.3, part: 'holdout' },
];

describe('epoch plans against the original builder', () => {
  it('serve the same items and order for many catalogs, seeds, epochs, policies, splits and windows', () => {
    let compared = 0;
    for (let key = 0; key < 24; key++) {
      const series = syntheticCatalog(key, 2 + ((key * 7) % 23));
      const seed = [0n, 1n, 42n, 2n ** 64n - 1n][key % 4]!;
      const epoch = [0, 3, 4_000_000_000][key % 3]!;
      const policy: SamplingPolicy = {
        ...DEFAULT_SAMPLING_POLICY,
        samplesPerNodule: 1 + (key % 5),
        negativesPerEpoch: [0, 1, 37, 500][key % 4]!,
        shuffleWindow: [0, 1, 3, 0, 7, 1000][key % 6]!,
      };
      for (const split of SPLITS) {
        const eligible = eligibleSeries(series, split);
        if (eligible.length === 0) continue; // refused, as before (epoch-items.test.ts)
        const reference = referenceItems(series, policy, seed, epoch, eligible);
        if (reference.length === 0) continue;
        const plan = createEpochPlan({
          series,
          policy,
          seed,
          epoch,
          eligible: split.part === 'all' ? undefined : eligible,
        });
        const where = `key ${key} split ${split.part} window ${policy.shuffleWindow}`;
        assert.equal(plan.size, reference.length, where);
        assert.deepEqual(servedItems(plan), reference, where);
        for (let index = 0; index < plan.size; index++) {
          assert.equal(plan.items.seriesOf(index), reference[index]!.series, `${where} item ${index}`);
        }
        const order = referenceOrder(reference, policy.shuffleWindow, seed, epoch);
        assert.deepEqual(servedOrder(plan), order, where);
        assert.deepEqual([...plan.order], order, where);
        compared++;
      }
    }
    assert.ok(compared > 40, `${compared} plans compared`);
  });

  it('serve the same order for plans large enough to be built in many steps', () => {
    const series = syntheticCatalog(5, 40);
    for (const shuffleWindow of [0, 2, 9]) {
      const policy = {
        ...DEFAULT_SAMPLING_POLICY,
        samplesPerNodule: 200,
        negativesPerEpoch: 20_000,
        shuffleWindow,
      };
      const reference = referenceItems(series, policy, 31n, 2, [...series.keys()]);
      const plan = createEpochPlan({ series, policy, seed: 31n, epoch: 2 });
      assert.ok(plan.size > 30_000, `${plan.size} items`);
      assert.deepEqual(
        servedOrder(plan),
        referenceOrder(reference, shuffleWindow, 31n, 2),
        `window ${shuffleWindow}`,
      );
      const bad = new Set([0, 7, 8]);
      assert.deepEqual(
        servedOrder(planWithoutSeries(plan, bad)),
        referenceWithout(reference, referenceOrder(reference, shuffleWindow, 31n, 2), bad, 31n, 2),
        `window ${shuffleWindow} without ${[...bad]}`,
      );
    }
  });

  it('replace bad series exactly as the original replacement did', () => {
    let compared = 0;
    for (let key = 0; key < 30; key++) {
      const series = syntheticCatalog(key + 100, 3 + (key % 9));
      const policy: SamplingPolicy = {
        ...DEFAULT_SAMPLING_POLICY,
        samplesPerNodule: 1 + (key % 3),
        negativesPerEpoch: [0, 5, 60][key % 3]!,
        shuffleWindow: [0, 2][key % 2]!,
      };
      const seed = BigInt(key * 977);
      const reference = referenceItems(series, policy, seed, key, [...series.keys()]);
      if (reference.length === 0) continue;
      const order = referenceOrder(reference, policy.shuffleWindow, seed, key);
      const plan = createEpochPlan({ series, policy, seed, epoch: key });
      // Every non-empty proper subset over the first series, and one set past the catalog.
      const sets = [new Set([0]), new Set([0, 1]), new Set([1, 2]), new Set([series.length - 1, 99])];
      for (const bad of sets) {
        const survivors = reference.filter((item) => !bad.has(item.series));
        if (survivors.length === 0) continue;
        const replaced = planWithoutSeries(plan, bad);
        const expected = referenceWithout(reference, order, bad, seed, key);
        assert.deepEqual(servedOrder(replaced), expected, `key ${key} bad ${[...bad]}`);
        // Wrapped positions draw from the stream of position mod n, as before.
        assert.equal(replaced.itemAt(plan.size * 3 + 1), expected[1 % plan.size]);
        compared++;
      }
    }
    assert.ok(compared > 60, `${compared} replacement plans compared`);
  });

  it('keep the orders recorded from the original builder (golden values)', () => {
    const series = syntheticCatalog(17, 12);
    const golden = [
      {
        window: 0,
        order: [40, 31, 23, 2, 34, 24, 55, 0, 4, 10, 61, 37],
        items: '9/1 6/2 5/0 0/0 8/0 6/0 4/-1 0/0 0/1 2/1 5/-1 9/0',
        without: [40, 31, 23, 22, 34, 24, 70, 16, 44, 10, 61, 37],
      },
      {
        window: 3,
        order: [61, 23, 65, 47, 36, 50, 40, 49, 57, 44, 39, 54],
        items: '5/-1 5/0 11/-1 9/3 9/0 11/0 9/1 11/0 11/-1 9/2 9/1 9/-1',
        without: [61, 23, 65, 47, 36, 50, 40, 49, 57, 44, 39, 54],
      },
    ];
    for (const { window, order, items, without } of golden) {
      const policy = {
        ...DEFAULT_SAMPLING_POLICY,
        samplesPerNodule: 3,
        negativesPerEpoch: 20,
        shuffleWindow: window,
      };
      const plan = createEpochPlan({ series, policy, seed: 2024n, epoch: 5 });
      assert.equal(plan.size, 71);
      const first = order.map((_, p) => plan.itemAt(p));
      assert.deepEqual(first, order, `window ${window}`);
      const shown = first.map((item) => plan.items.item(item)).map((i) => `${i.series}/${i.nodule}`);
      assert.equal(shown.join(' '), items, `window ${window}`);
      const replaced = planWithoutSeries(plan, new Set([0, 4]));
      assert.deepEqual(
        without.map((_, p) => replaced.itemAt(p)),
        without,
        `window ${window}`,
      );
    }
  });
});
