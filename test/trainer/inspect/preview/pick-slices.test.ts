import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nearestShownSlice, pickSlices } from '../../../../trainer/inspect/preview/pick-slices.js';

describe('pickSlices', () => {
  it('takes every slice, or every K-th from slice 0', () => {
    assert.deepEqual(pickSlices(4, 1), [0, 1, 2, 3]);
    assert.deepEqual(pickSlices(16, 5), [0, 5, 10, 15]);
    assert.deepEqual(pickSlices(3, 8), [0]);
  });

  it('refuses a step below 1', () => {
    assert.throws(() => pickSlices(4, 0), /every must be a whole number >= 1, not 0/);
  });
});

describe('nearestShownSlice', () => {
  it('picks the shown slice nearest the centre, the first of two equally near', () => {
    assert.equal(nearestShownSlice([0, 4, 8], 7), 8);
    assert.equal(nearestShownSlice([0, 4, 8], 6), 4);
    assert.equal(nearestShownSlice([], 3), null);
  });
});
