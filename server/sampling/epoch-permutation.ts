import { checkEpoch, permutationKey } from './plan-keys.js';
import { type PlanSteps, runPlanSteps } from './plan-steps.js';
import { createRng, type Rng } from './rng.js';

/** Work per step (see PlanSteps): each is a fraction of a millisecond. */
const FILL_PER_STEP = 65_536;
const SWAPS_PER_STEP = 8192;

/**
 * The shuffled order of an epoch's `n` items: a Fisher–Yates shuffle of 0..n-1 driven by one stream keyed
 * by (seed, epoch), so every replica and every rank computes the same order. Plan position p holds item
 * `order[p % n]`. O(n) time and 4n bytes.
 */
export function epochPermutation(n: number, seed: bigint, epoch: number): Uint32Array {
  return runPlanSteps(epochPermutationSteps(n, seed, epoch));
}

/** `epochPermutation` in steps. */
export function* epochPermutationSteps(n: number, seed: bigint, epoch: number): PlanSteps<Uint32Array> {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new RangeError(`epochPermutation needs an item count 0..2^32-1, got ${n}`);
  }
  checkEpoch(epoch);
  const order = new Uint32Array(n);
  for (let start = 0; start < n; start += FILL_PER_STEP) {
    const end = Math.min(n, start + FILL_PER_STEP);
    for (let i = start; i < end; i++) order[i] = i;
    yield;
  }
  yield* shuffleSteps(order, createRng(permutationKey(seed, epoch)));
  return order;
}

/**
 * Fisher–Yates in place, walking down from the last slot: slot i swaps with a uniform slot in [0, i]. The
 * order of draws is part of every plan's identity: replicas agree on batches only while it stays as it is.
 */
export function shuffleInPlace(values: number[] | Uint32Array, rng: Rng): void {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.nextInt(0, i);
    const tmp = values[i]!;
    values[i] = values[j]!;
    values[j] = tmp;
  }
}

/** `shuffleInPlace` in steps: the same draws and swaps, in the same order. */
export function* shuffleSteps(values: Uint32Array, rng: Rng): PlanSteps<void> {
  for (let i = values.length - 1; i > 0; ) {
    const stop = Math.max(0, i - SWAPS_PER_STEP);
    for (; i > stop; i--) {
      const j = rng.nextInt(0, i);
      const tmp = values[i]!;
      values[i] = values[j]!;
      values[j] = tmp;
    }
    yield;
  }
}
