import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dice, overlapCounts } from '../../../server/evaluate/dice.js';

describe('dice', () => {
  it('is 2|P and T| / (|P| + |T|)', () => {
    // P = {0, 1, 2}, T = {1, 2, 3, 4}: overlap 2, so 2 * 2 / (3 + 4) = 4/7.
    const counts = overlapCounts([1, 1, 1, 0, 0, 0], [0, 1, 1, 1, 1, 0]);
    assert.deepEqual(counts, { predicted: 3, truth: 4, both: 2 });
    assert.equal(dice(counts), 4 / 7);
  });

  it('is 1 for a perfect prediction and 0 without overlap', () => {
    assert.equal(dice(overlapCounts([0, 1, 1], [0, 2, 1])), 1);
    assert.equal(dice(overlapCounts([1, 0, 0], [0, 1, 0])), 0);
    assert.equal(dice(overlapCounts([1, 0, 0], [0, 0, 0])), 0);
  });

  it('is null when both are empty, so a negative scan left empty does not move a mean', () => {
    assert.equal(dice(overlapCounts([0, 0], [0, 0])), null);
  });

  it('refuses volumes of different lengths', () => {
    assert.throws(() => overlapCounts([0, 0], [0]), /2 voxels but the truth 1/);
  });
});
