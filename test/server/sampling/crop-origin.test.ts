import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  centerOrigin,
  jitterRange,
  negativeRange,
  noduleExtent,
} from '../../../server/sampling/crop-origin.js';

describe('crop origins on one axis', () => {
  const centers: [center: number, size: number, origin: number][] = [
    [10, 5, 8],
    [10, 4, 8],
    [10.5, 4, 9],
    [10.49, 4, 8],
    [-0.5, 3, -1],
    [0, 1, 0],
  ];
  for (const [center, size, origin] of centers) {
    it(`centres round(${center}) at index ${Math.floor(size / 2)} of a crop of ${size} with origin ${origin}`, () => {
      assert.equal(centerOrigin(center, size), origin);
    });
  }

  it('spans a nodule from round(c - d/2) to round(c + d/2)', () => {
    assert.deepEqual(noduleExtent(10, 4), [8, 12]);
    assert.deepEqual(noduleExtent(10.3, 0), [10, 10]);
    assert.deepEqual(noduleExtent(3.7, 10), [-1, 9]);
  });

  it('allows jitter origins from hi - size + 1 to lo, and none when the nodule is larger', () => {
    assert.deepEqual(jitterRange(10, 4, 12), [1, 8]);
    assert.deepEqual(jitterRange(10, 4, 5), [8, 8]);
    assert.equal(jitterRange(10, 4, 4), null);
  });

  it('keeps negative origins inside the volume, or around it when the crop is larger', () => {
    assert.deepEqual(negativeRange(10, 7), [0, 3]);
    assert.deepEqual(negativeRange(8, 8), [0, 0]);
    assert.deepEqual(negativeRange(6, 10), [-4, 0]);
  });
});
