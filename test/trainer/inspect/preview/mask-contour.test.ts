import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskContour } from '../../../../trainer/inspect/preview/mask-contour.js';

function grid(rows: readonly string[]): Uint8Array {
  return Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0));
}

function show(contour: Uint8Array, cols: number): string[] {
  const rows: string[] = [];
  for (let at = 0; at < contour.length; at += cols) {
    rows.push(Array.from(contour.subarray(at, at + cols), (v) => (v ? '#' : '.')).join(''));
  }
  return rows;
}

describe('maskContour', () => {
  it('keeps the mask voxels with an in-plane neighbour outside the mask, not the inner ones', () => {
    const mask = grid(['......', '.####.', '.####.', '.####.', '......']);
    assert.deepEqual(show(maskContour(mask, 5, 6), 6), ['......', '.####.', '.#..#.', '.####.', '......']);
  });

  it('counts only the 4 in-plane neighbours: a diagonal gap does not make a contour', () => {
    const mask = grid(['###', '###', '###']);
    mask[0] = 0; // the corner: (1,1) touches it diagonally only
    assert.equal(maskContour(mask, 3, 3)[4], 0);
    assert.equal(maskContour(mask, 3, 3)[1], 1);
  });

  it('leaves a mask that runs into the crop edge open there: beyond the crop is not outside', () => {
    const mask = grid(['###', '###', '...']);
    assert.deepEqual(show(maskContour(mask, 3, 3), 3), ['...', '###', '...']);
  });

  it('is empty for an empty mask and refuses a plane of the wrong size', () => {
    assert.deepEqual([...maskContour(new Uint8Array(6), 2, 3)], [0, 0, 0, 0, 0, 0]);
    assert.throws(() => maskContour(new Uint8Array(5), 2, 3), /2x3 slice holds 6 values, not 5/);
  });
});
