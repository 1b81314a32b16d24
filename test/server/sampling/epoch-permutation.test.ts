import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochPermutation } from '../../../server/sampling/epoch-permutation.js';

function isPermutation(order: Uint32Array, n: number): boolean {
  if (order.length !== n) return false;
  const seen = new Uint8Array(n);
  for (const v of order) {
    if (v >= n || seen[v] === 1) return false;
    seen[v] = 1;
  }
  return true;
}

describe('epochPermutation', () => {
  it('is a permutation of 0..n-1 for many sizes, seeds and epochs', () => {
    for (const n of [0, 1, 2, 3, 7, 64, 1000]) {
      for (const seed of [0n, 1n, 42n, 2n ** 63n, 2n ** 64n - 1n]) {
        for (const epoch of [0, 1, 17, 0xffff_ffff]) {
          assert.ok(isPermutation(epochPermutation(n, seed, epoch), n), `n ${n} seed ${seed} epoch ${epoch}`);
        }
      }
    }
  });

  it('is equal for equal inputs and differs between epochs and between seeds', () => {
    for (let seed = 0n; seed < 20n; seed++) {
      const a = epochPermutation(500, seed, 3);
      assert.deepEqual(a, epochPermutation(500, seed, 3));
      assert.notDeepEqual(a, epochPermutation(500, seed, 4));
      assert.notDeepEqual(a, epochPermutation(500, seed + 1000n, 3));
    }
  });

  it('draws all 6 orders of 3 items about equally often (no Sattolo or off-by-one bias)', () => {
    const counts = new Map<string, number>();
    const draws = 6000;
    for (let seed = 0; seed < draws; seed++) {
      const key = epochPermutation(3, BigInt(seed), 0).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    // Chi-square with 5 degrees of freedom; 20.5 is its 0.999 quantile.
    const expected = draws / 6;
    const chi2 = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
    assert.ok(chi2 < 20.5, `counts ${[...counts].join(' ')} (chi2 ${chi2.toFixed(1)})`);
  });

  it('refuses a negative or fractional item count', () => {
    assert.throws(() => epochPermutation(-1, 1n, 0), RangeError);
    assert.throws(() => epochPermutation(2.5, 1n, 0), RangeError);
  });
});
