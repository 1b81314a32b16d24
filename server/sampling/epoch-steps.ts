import { VoxelfeedError } from '../errors.js';

/**
 * Step geometry of an epoch with world size W and per-rank batch B: global step g covers plan positions
 * [g*W*B, (g+1)*W*B) and rank r takes the B-slice starting at g*W*B + r*B. So the union of the ranks'
 * batches at a step is the same for every W with the same global batch W*B, and every rank gets the same
 * number of steps: the last step runs past the items and wraps (position p holds item order[p % n]).
 */

function checkWorld(worldSize: number, batchSize: number): void {
  const problems: string[] = [];
  if (!Number.isSafeInteger(worldSize) || worldSize < 1) {
    problems.push(`world_size is ${worldSize}; expected a positive integer`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    problems.push(`batch_size is ${batchSize}; expected a positive integer`);
  }
  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
}

/** ceil(items / (W*B)): the steps every rank takes in one epoch. */
export function stepsInEpoch(items: number, worldSize: number, batchSize: number): number {
  checkWorld(worldSize, batchSize);
  if (!Number.isSafeInteger(items) || items < 0) {
    throw new RangeError(`stepsInEpoch needs a non-negative integer item count, got ${items}`);
  }
  return Math.ceil(items / (worldSize * batchSize));
}

/** How ranks are laid over the plan when `rankGroups` > 1 (the request's rank_groups); see planPosition. */
export interface RankGrouping {
  readonly rankGroups: number;
  readonly stepsInEpoch: number;
}

/** How one epoch's steps are laid over its plan: the world size, each rank's batch, the rank grouping if any. */
export interface StepLayout {
  readonly worldSize: number;
  readonly batchSize: number;
  /** Absent: one group (ranks interleaved step by step). */
  readonly grouping?: RankGrouping | undefined;
}

/**
 * The plan position of `slot` in `rank`'s batch at global step `step`.
 *
 * Without grouping (or one group): step*W*B + rank*B + slot. With K groups the plan's first S*W*B positions
 * (S steps) are cut into K consecutive parts; group g holds the n_g ranks r = g mod K, its part is S*n_g*B
 * positions long, and within it the group's ranks take turns step by step like the ungrouped layout does for
 * all ranks: offset_g + (step*n_g + floor(r/K))*B + slot. One group is the ungrouped layout exactly.
 */
export function planPosition(layout: StepLayout, step: number, rank: number, slot: number): number {
  const { worldSize, batchSize, grouping } = layout;
  checkWorld(worldSize, batchSize);
  if (!Number.isSafeInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `rank is ${rank}; expected an integer 0..${worldSize - 1}`);
  }
  if (!Number.isSafeInteger(slot) || slot < 0 || slot >= batchSize) {
    throw new RangeError(`batch slot ${slot} is outside 0..${batchSize - 1}`);
  }
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `step is ${step}; expected a non-negative integer`);
  }
  const groups = grouping?.rankGroups ?? 1;
  if (!Number.isSafeInteger(groups) || groups < 1 || groups > worldSize) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `rank_groups is ${groups}; expected 1..${worldSize} (at most world_size)`,
    );
  }
  let position: number;
  if (groups === 1) {
    position = (step * worldSize + rank) * batchSize + slot;
  } else {
    const group = rank % groups;
    const ranksInGroup = groupSize(group, groups, worldSize);
    const ranksBefore = group * Math.floor(worldSize / groups) + Math.min(group, worldSize % groups);
    const offset = grouping!.stepsInEpoch * ranksBefore * batchSize;
    position = offset + (step * ranksInGroup + Math.floor(rank / groups)) * batchSize + slot;
  }
  if (!Number.isSafeInteger(position)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `step ${step} is too large: its plan positions pass 2^53; lower start_step`,
    );
  }
  return position;
}

/** How many of the ranks 0..W-1 are congruent to `group` modulo `groups`. */
function groupSize(group: number, groups: number, worldSize: number): number {
  return Math.floor(worldSize / groups) + (group < worldSize % groups ? 1 : 0);
}
