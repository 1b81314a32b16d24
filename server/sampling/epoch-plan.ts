import { buildEpochItems } from './epoch-items.js';
import { epochPermutation } from './epoch-permutation.js';
import { checkPosition } from './plan-keys.js';
import type { PlanItem, SamplingPolicy, SeriesSummary } from './types.js';
import { windowedPermutation } from './windowed-permutation.js';

/**
 * One epoch's items and their shuffled order, built once per (catalog, policy, seed, epoch) in O(n) and then
 * shared read-only by every stream of that epoch: `itemAt` is O(1) per position.
 */
export interface EpochPlan {
  readonly seed: bigint;
  readonly epoch: number;
  readonly items: readonly PlanItem[];
  /** Plan position p (< size) holds item order[p]; positions past the end wrap. */
  readonly order: Uint32Array;
  /** Items per epoch (n). */
  readonly size: number;
  /** The index into `items` of plan position `position`: order[position % size]. */
  itemAt(position: number): number;
}

export function createEpochPlan(
  series: readonly SeriesSummary[],
  policy: SamplingPolicy,
  seed: bigint,
  epoch: number,
  eligible?: readonly number[],
): EpochPlan {
  const items = buildEpochItems(series, policy, seed, epoch, eligible);
  const order =
    policy.shuffleWindow > 0
      ? windowedPermutation(items, policy.shuffleWindow, seed, epoch)
      : epochPermutation(items.length, seed, epoch);
  const size = items.length;
  return {
    seed,
    epoch,
    items,
    order,
    size,
    itemAt(position: number): number {
      checkPosition(position);
      return order[position % size]!;
    },
  };
}
