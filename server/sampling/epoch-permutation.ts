import { checkEpoch, permutationKey } from './plan-keys.js';
import { createRng } from './rng.js';

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
  const rng = createRng(permutationKey(seed, epoch));
  // Walk down from the last slot: slot i swaps with a uniform slot in [0, i].
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(0, i);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}
