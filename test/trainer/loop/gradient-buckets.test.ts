import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gradientBuckets } from '../../../trainer/loop/gradient-buckets.js';

describe('gradientBuckets', () => {
  it('cuts from the last variable, each bucket at most the limit unless one variable is larger', () => {
    assert.deepEqual(gradientBuckets([4, 3, 10, 2, 2, 5], 6), [
      { first: 5, end: 6, size: 5 },
      { first: 3, end: 5, size: 4 },
      { first: 2, end: 3, size: 10 },
      { first: 1, end: 2, size: 3 },
      { first: 0, end: 1, size: 4 },
    ]);
  });

  it('covers every variable exactly once, in reverse order, for any limit', () => {
    const sizes = [7, 1, 1, 30, 2, 9, 9, 1, 16];
    for (let limit = 1; limit <= 90; limit++) {
      const buckets = gradientBuckets(sizes, limit);
      let end = sizes.length;
      for (const bucket of buckets) {
        assert.equal(bucket.end, end);
        assert.ok(bucket.first < bucket.end);
        const size = sizes.slice(bucket.first, bucket.end).reduce((a, b) => a + b, 0);
        assert.equal(bucket.size, size);
        assert.ok(
          size <= limit || bucket.end - bucket.first === 1,
          `limit ${limit}: ${JSON.stringify(bucket)}`,
        );
        end = bucket.first;
      }
      assert.equal(end, 0);
    }
    assert.deepEqual(gradientBuckets(sizes, 1000), [{ first: 0, end: sizes.length, size: 76 }]);
  });

  it('has no bucket for no variables and refuses a limit below one', () => {
    assert.deepEqual(gradientBuckets([], 10), []);
    assert.throws(() => gradientBuckets([1], 0), /positive integer, got 0/);
  });
});
