import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meanAndStd, quantile, unitHistogram } from '../../../../trainer/inspect/stats/distribution.js';

describe('quantile', () => {
  it('interpolates linearly between the closest ranks, whatever the input order', () => {
    assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
    assert.ok(Math.abs(quantile([4, 1, 3, 2], 0.9)! - 3.7) < 1e-12);
    assert.equal(quantile([7], 0.9), 7);
    assert.equal(quantile([], 0.5), null);
  });
});

describe('meanAndStd', () => {
  it('is the mean and the population standard deviation', () => {
    assert.deepEqual(meanAndStd([2, 4, 4, 4, 5, 5, 7, 9]), { mean: 5, std: 2 });
    assert.equal(meanAndStd([]), null);
  });
});

describe('unitHistogram', () => {
  it('puts k/10 in bin k, 1 in the last bin, and counts values outside 0..1 apart', () => {
    const values = [0, 0.1, 0.3, 0.7, 0.9999, 1, -0.01, 1.5, 0.30000000000000004, 0.29999999999999993];
    assert.deepEqual(unitHistogram(values, 10), {
      counts: [1, 1, 1, 2, 0, 0, 0, 1, 0, 2],
      below: 1,
      above: 1,
    });
  });
});
