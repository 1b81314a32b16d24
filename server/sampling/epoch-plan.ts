import { createEpochItems, type EpochInputs, type EpochItems } from './epoch-items.js';
import { epochPermutationSteps } from './epoch-permutation.js';
import { checkPosition } from './plan-keys.js';
import { type PlanSteps, runPlanSteps } from './plan-steps.js';
import { windowedPermutationSteps } from './windowed-permutation.js';

/**
 * One epoch's items and their shuffled order, built once per (catalog, policy, seed, epoch) and then shared
 * read-only by every stream of that epoch: `itemAt` is O(1) per position. A plan holds its order (4 bytes per
 * item) and the small tables of its items, nothing per item beyond that.
 */
export interface EpochPlan {
  readonly seed: bigint;
  readonly epoch: number;
  readonly items: EpochItems;
  /** Items per epoch (n). */
  readonly size: number;
  /** Bytes this plan holds (its order and tables), what the plan cache counts against its bound. */
  readonly bytes: number;
  /** The index into `items` of plan position `position`; positions past the end wrap. */
  itemAt(position: number): number;
}

/** A plan as built: plan position p (< size) holds item order[p]. */
export interface ShuffledEpochPlan extends EpochPlan {
  readonly order: Uint32Array;
}

export function createEpochPlan(inputs: EpochInputs): ShuffledEpochPlan {
  return runPlanSteps(epochPlanSteps(inputs));
}

/**
 * `createEpochPlan` in steps (PlanSteps): the same plan, built a fraction of a millisecond at a time. The
 * catalog checks run at the first step.
 */
export function* epochPlanSteps(inputs: EpochInputs): PlanSteps<ShuffledEpochPlan> {
  const { policy, seed, epoch } = inputs;
  const items = createEpochItems(inputs);
  const order =
    policy.shuffleWindow > 0
      ? yield* windowedPermutationSteps(items, policy.shuffleWindow, seed, epoch)
      : yield* epochPermutationSteps(items.size, seed, epoch);
  const size = items.size;
  return {
    seed,
    epoch,
    items,
    order,
    size,
    bytes: order.byteLength + items.bytes,
    itemAt(position: number): number {
      checkPosition(position);
      return order[position % size]!;
    },
  };
}
