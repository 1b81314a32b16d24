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

/** The plan position of `slot` in `rank`'s batch at global step `step`: step*W*B + rank*B + slot. */
export function planPosition(
  step: number,
  rank: number,
  slot: number,
  worldSize: number,
  batchSize: number,
): number {
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
  const position = (step * worldSize + rank) * batchSize + slot;
  if (!Number.isSafeInteger(position)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `step ${step} is too large: its plan positions pass 2^53; lower start_step`,
    );
  }
  return position;
}
