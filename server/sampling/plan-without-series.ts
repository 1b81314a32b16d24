import { VoxelfeedError } from '../errors.js';
import type { EpochPlan } from './epoch-plan.js';
import { checkPosition } from './plan-keys.js';
import { type PlanSteps, runPlanSteps } from './plan-steps.js';
import { createRng, RngPurpose, toWords } from './rng.js';

/** Negatives looked at per step (see PlanSteps): each costs one generator, about a microsecond. */
const NEGATIVES_PER_STEP = 256;

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
 *   The pools list the good items in ascending item order; the draw picks an index into them.
 *
 * The result is a pure function of (plan, set of bad series): the set's insertion order does not matter, and
 * every replica that knows the same bad set serves the same batches. Determinism therefore depends on the bad
 * set: a replica that has not (yet) found a series bad serves that series' items as planned. Sample draws
 * (mode, origin) stay keyed by the position, so a replaced sample is cut from its new item as planSample
 * would cut it. Positions past the end wrap as in the plan. A plan with no item in a bad series is returned
 * as it is. Building looks at every negative once (O(negatives)) and keeps the good negatives' indices (4
 * bytes each); `itemAt` replaces on demand, in O(1) plus a search over the series with nodules.
 */
export function planWithoutSeries(plan: EpochPlan, badSeries: ReadonlySet<number>): EpochPlan {
  return runPlanSteps(planWithoutSeriesSteps(plan, badSeries));
}

/**
 * `planWithoutSeries` in steps. The bad set is copied now, not at the first step: the caller's set may grow
 * while the steps wait their turn, and the result must be the plan for the set as it was asked for.
 */
export function planWithoutSeriesSteps(
  plan: EpochPlan,
  badSeries: ReadonlySet<number>,
): PlanSteps<EpochPlan> {
  return withoutSeriesSteps(plan, new Set(badSeries));
}

function* withoutSeriesSteps(plan: EpochPlan, bad: ReadonlySet<number>): PlanSteps<EpochPlan> {
  const { items, size } = plan;
  const { noduleItems } = items;
  // Good nodule items: the runs of good series, with the number of good items before each.
  const goodRunStart: number[] = [];
  const goodBefore: number[] = [0];
  items.runSeries.forEach((s, run) => {
    if (bad.has(s)) return;
    goodRunStart.push(items.runStart[run]!);
    goodBefore.push(goodBefore.at(-1)! + items.runStart[run + 1]! - items.runStart[run]!);
  });
  const goodNodules = goodBefore.at(-1)!;
  const goodNegatives = new Uint32Array(size - noduleItems);
  let goodNegativeCount = 0;
  for (let start = noduleItems; start < size; start += NEGATIVES_PER_STEP) {
    const end = Math.min(size, start + NEGATIVES_PER_STEP);
    for (let index = start; index < end; index++) {
      if (!bad.has(items.seriesOf(index))) goodNegatives[goodNegativeCount++] = index;
    }
    yield;
  }
  if (goodNodules + goodNegativeCount === size) return plan;
  if (goodNodules + goodNegativeCount === 0) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `every series that epoch ${plan.epoch} draws from is marked bad (${bad.size} series bad); restore their files and restart the server`,
    );
  }
  const negativePool = goodNegatives.slice(0, goodNegativeCount);
  /** The `k`-th good nodule item, ascending. */
  const goodNodule = (k: number): number => {
    let lo = 0;
    let hi = goodRunStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (goodBefore[mid]! <= k) lo = mid;
      else hi = mid - 1;
    }
    return goodRunStart[lo]! + k - goodBefore[lo]!;
  };
  const { seed, epoch } = plan;
  return {
    seed,
    epoch,
    items,
    size,
    bytes: plan.bytes + negativePool.byteLength + 16 * goodRunStart.length,
    itemAt(position: number): number {
      checkPosition(position);
      const p = position % size;
      const planned = plan.itemAt(p);
      if (!bad.has(items.seriesOf(planned))) return planned;
      const negative = planned >= noduleItems;
      const useNegatives = negative ? goodNegativeCount > 0 : goodNodules === 0;
      const poolSize = useNegatives ? goodNegativeCount : goodNodules;
      const pick = createRng(replacementKey(seed, epoch, p)).nextInt(0, poolSize - 1);
      return useNegatives ? negativePool[pick]! : goodNodule(pick);
    },
  };
}
