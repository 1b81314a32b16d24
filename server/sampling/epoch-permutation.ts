import { checkEpoch, permutationKey } from './plan-keys.js';
import { createRng, type Rng } from './rng.js';

/**
 * The shuffled order of an epoch's `n` items: a Fisher–Yates shuffle of 0..n-1 driven by one stream keyed
 * by (seed, epoch), so every replica and every rank computes the same order. Plan position p holds item
 * `order[p % n]`. O(n) time and 4n bytes.
 */
export function epochPermutation(n: number, seed: bigint, epoch: number): Uint32Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new RangeError(`epochPermutation needs an item count 0..2^32-1, got ${n}`);
  }
  checkEpoch(epoch);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, createRng(permutationKey(seed, epoch)));
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
