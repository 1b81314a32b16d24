import { VoxelfeedError } from '../errors.js';
import type { EpochPlan } from './epoch-plan.js';
import { checkPosition } from './plan-keys.js';
import { createRng, RngPurpose, toWords } from './rng.js';

/** The stream that draws the replacement of plan position `position` (taken modulo the epoch size). */
export function replacementKey(seed: bigint, epoch: number, position: number): number[] {
  return [...toWords(seed), epoch, ...toWords(position), RngPurpose.badSeriesReplacement];
}

/**
 * The epoch plan with every item of the series in `badSeries` (catalog indices) replaced by an item of a good
 * series, so a server that found some volumes unreadable can still serve whole epochs.
 *
 * - A position whose item lies in a good series keeps it.
 * - A position whose item lies in a bad series gets an item drawn uniformly, from its own stream keyed by
 *   (seed, epoch, position mod n), among the epoch's items of good series of the same kind (a nodule for a
 *   nodule, a negative for a negative), or of the other kind when none of its kind is left. Drawing over
 *   items rather than series keeps the plan's weighting: a series with more nodules is drawn more often.
 *
 * The result is a pure function of (plan, set of bad series): the set's insertion order does not matter, and
 * every replica that knows the same bad set serves the same batches. Determinism therefore depends on the bad
 * set: a replica that has not (yet) found a series bad serves that series' items as planned. Sample draws
 * (mode, origin) stay keyed by the position, so a replaced sample is cut from its new item as planSample
 * would cut it. Positions past the end wrap as in the plan. A plan with no item in a bad series is returned
 * as it is. O(n) once; `itemAt` stays O(1).
 */
export function planWithoutSeries(plan: EpochPlan, badSeries: ReadonlySet<number>): EpochPlan {
  const bad = new Set(badSeries); // a snapshot: the caller's set may grow later
  const goodNodules: number[] = [];
  const goodNegatives: number[] = [];
  plan.items.forEach((item, index) => {
    if (!bad.has(item.series)) (item.nodule < 0 ? goodNegatives : goodNodules).push(index);
  });
  if (goodNodules.length + goodNegatives.length === plan.items.length) return plan;
  if (goodNodules.length + goodNegatives.length === 0) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `every series that epoch ${plan.epoch} draws from is marked bad (${bad.size} series bad); restore their files and restart the server`,
    );
  }
  const order = plan.order.map((item, position) => {
    const planned = plan.items[item]!;
    if (!bad.has(planned.series)) return item;
    const sameKind = planned.nodule < 0 ? goodNegatives : goodNodules;
    const pool = sameKind.length > 0 ? sameKind : planned.nodule < 0 ? goodNodules : goodNegatives;
    const pick = createRng(replacementKey(plan.seed, plan.epoch, position)).nextInt(0, pool.length - 1);
    return pool[pick]!;
  });
  const size = plan.size;
  return {
    seed: plan.seed,
    epoch: plan.epoch,
    items: plan.items,
    order,
    size,
    itemAt(position: number): number {
      checkPosition(position);
      return order[position % size]!;
    },
  };
}
