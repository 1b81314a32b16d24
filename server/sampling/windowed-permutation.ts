import { shuffleInPlace } from './epoch-permutation.js';
import { checkEpoch, seriesOrderKey, windowShuffleKey } from './plan-keys.js';
import { createRng } from './rng.js';
import type { PlanItem } from './types.js';

/**
 * A cache-aware epoch order: the series are shuffled, cut into windows of `window` series, and the items of each
 * window are shuffled among themselves; the epoch visits the windows one after another. Consecutive steps then
 * draw from at most `window` series (two at a window's edge), so a cache that holds `window` series loads each
 * series once per epoch instead of again and again. It is still a permutation that is a pure function of
 * (seed, epoch), the same on every replica; what it gives up is mixing across windows within a step.
 */
export function windowedPermutation(
  items: readonly PlanItem[],
  window: number,
  seed: bigint,
  epoch: number,
): Uint32Array {
  if (!Number.isSafeInteger(window) || window < 1) {
    throw new RangeError(`windowedPermutation needs a window of at least one series, got ${window}`);
  }
  checkEpoch(epoch);
  const itemsBySeries = new Map<number, number[]>();
  items.forEach((item, index) => {
    const list = itemsBySeries.get(item.series);
    if (list === undefined) itemsBySeries.set(item.series, [index]);
    else list.push(index);
  });
  const series = [...itemsBySeries.keys()].sort((a, b) => a - b);
  shuffleInPlace(series, createRng(seriesOrderKey(seed, epoch)));
  const order = new Uint32Array(items.length);
  let at = 0;
  for (let start = 0, windowIndex = 0; start < series.length; start += window, windowIndex++) {
    const members = series.slice(start, start + window).flatMap((entry) => itemsBySeries.get(entry)!);
    shuffleInPlace(members, createRng(windowShuffleKey(seed, epoch, windowIndex)));
    for (const member of members) order[at++] = member;
  }
  return order;
}
