import { shuffleInPlace, shuffleSteps } from './epoch-permutation.js';
import { checkEpoch, seriesOrderKey, windowShuffleKey } from './plan-keys.js';
import { type PlanSteps, runPlanSteps } from './plan-steps.js';
import { createRng } from './rng.js';

/** What the windowed order needs of the items: how many, and each one's series. */
export interface ItemSeries {
  readonly size: number;
  seriesOf(index: number): number;
}

/** Items per step (see PlanSteps): a negative's series costs one generator, about a microsecond. */
const LOOKUPS_PER_STEP = 256;
const PLACES_PER_STEP = 65_536;

/**
 * A cache-aware epoch order: the series are shuffled, cut into windows of `window` series, and the items of each
 * window are shuffled among themselves; the epoch visits the windows one after another. Consecutive steps then
 * draw from at most `window` series (two at a window's edge), so a cache that holds `window` series loads each
 * series once per epoch instead of again and again. It is still a permutation that is a pure function of
 * (seed, epoch), the same on every replica; what it gives up is mixing across windows within a step.
 *
 * Within a window the items are listed series by series in the window's order, each series' items ascending,
 * before the window's shuffle. O(n) time; 4n bytes for the order, and 4n more while it is built.
 */
export function windowedPermutation(
  items: ItemSeries,
  window: number,
  seed: bigint,
  epoch: number,
): Uint32Array {
  return runPlanSteps(windowedPermutationSteps(items, window, seed, epoch));
}

/** `windowedPermutation` in steps. */
export function* windowedPermutationSteps(
  items: ItemSeries,
  window: number,
  seed: bigint,
  epoch: number,
): PlanSteps<Uint32Array> {
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new RangeError(`windowedPermutation needs a window of at least one series, got ${window}`);
  }
  checkEpoch(epoch);
  const n = items.size;
  const seriesOfItem = new Uint32Array(n);
  let maxSeries = -1;
  for (let start = 0; start < n; start += LOOKUPS_PER_STEP) {
    const end = Math.min(n, start + LOOKUPS_PER_STEP);
    for (let i = start; i < end; i++) {
      const s = items.seriesOf(i);
      seriesOfItem[i] = s;
      if (s > maxSeries) maxSeries = s;
    }
    yield;
  }
  const count = new Uint32Array(maxSeries + 1);
  for (let i = 0; i < n; i++) count[seriesOfItem[i]!]! += 1;
  yield;

  const series: number[] = [];
  count.forEach((c, s) => {
    if (c > 0) series.push(s);
  });
  shuffleInPlace(series, createRng(seriesOrderKey(seed, epoch)));
  // A counting sort by the series' shuffled rank: each series' items land together, ascending.
  const next = new Uint32Array(maxSeries + 1);
  const windowStart: number[] = [];
  let at = 0;
  series.forEach((s, rank) => {
    if (rank % window === 0) windowStart.push(at);
    next[s] = at;
    at += count[s]!;
  });
  windowStart.push(n);
  const order = new Uint32Array(n);
  for (let start = 0; start < n; start += PLACES_PER_STEP) {
    const end = Math.min(n, start + PLACES_PER_STEP);
    for (let i = start; i < end; i++) {
      const s = seriesOfItem[i]!;
      order[next[s]!] = i;
      next[s]! += 1;
    }
    yield;
  }
  for (let w = 0; w + 1 < windowStart.length; w++) {
    const members = order.subarray(windowStart[w]!, windowStart[w + 1]!);
    yield* shuffleSteps(members, createRng(windowShuffleKey(seed, epoch, w)));
  }
  return order;
}
