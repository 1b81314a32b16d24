import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkBoxesAgainstMask,
  describeBoxMaskMismatch,
  maskViewOfVolume,
} from '../../../../server/dataset/box-check/check-boxes-against-mask.js';
import { findMaskBox } from '../../../../server/sampling/mask-box.js';
import type { Nodule, Shape3, Vec3, Volume } from '../../../../server/sampling/types.js';

/*
 * The check against masks built here voxel by voxel (balls in C order, as the cache holds them), and boxes
 * written right, with columns 1 and 2 swapped, reversed on a cube, in millimetres, or against an empty mask.
 */

const SHAPE: Shape3 = [20, 48, 48];
const SPACING: Vec3 = [0.8, 0.7, 0.7];
/** Far from the diagonal of axes 1 and 2, so a swapped centre lands far from both balls. */
const NODULES: readonly Nodule[] = [
  { center: [6, 12, 34], diameter: 5 },
  { center: [14, 34, 10], diameter: 5 },
];
const FILES = { maskPath: 'm_mask.nrrd', boxesPath: 'm_bboxes.npy' };

function volumeWithBalls(shape: Shape3, nodules: readonly Nodule[], withBox = true): Volume {
  const [n0, n1, n2] = shape;
  const mask = new Uint8Array(n0 * n1 * n2);
  for (const { center, diameter } of nodules) {
    for (let i0 = 0; i0 < n0; i0++) {
      for (let i1 = 0; i1 < n1; i1++) {
        for (let i2 = 0; i2 < n2; i2++) {
          const d2 = (i0 - center[0]) ** 2 + (i1 - center[1]) ** 2 + (i2 - center[2]) ** 2;
          if (d2 <= (diameter / 2) ** 2) mask[(i0 * n1 + i1) * n2 + i2] = 1;
        }
      }
    }
  }
  const image = new Uint8Array(mask.length);
  return withBox ? { shape, image, mask, maskBox: findMaskBox(mask, shape) } : { shape, image, mask };
}

function reordered(nodules: readonly Nodule[], columns: readonly [number, number, number]): Nodule[] {
  return nodules.map(({ center, diameter }) => ({
    center: [center[columns[0]]!, center[columns[1]]!, center[columns[2]]!],
    diameter,
  }));
}

function inMillimetres(nodules: readonly Nodule[], spacing: Vec3): Nodule[] {
  return nodules.map(({ center, diameter }) => ({
    center: [center[0] * spacing[0], center[1] * spacing[1], center[2] * spacing[2]],
    diameter,
  }));
}

describe('checkBoxesAgainstMask', () => {
  const volume = volumeWithBalls(SHAPE, NODULES);
  const mask = maskViewOfVolume(volume);

  it('finds nothing when every centre lies on its ball, or off it by up to one voxel', () => {
    assert.equal(checkBoxesAgainstMask(NODULES, mask, SPACING), null);
    const nudged = NODULES.map(({ center, diameter }) => ({
      center: [center[0] + 0.5, center[1] - 0.4, center[2] + 3.4] as Vec3, // the ball's edge is 2.5 away
      diameter,
    }));
    assert.equal(checkBoxesAgainstMask(nudged, mask, SPACING), null);
    assert.equal(checkBoxesAgainstMask([], mask, SPACING), null);
  });

  it('names columns 1 and 2 swapped, (z, x, y), and the numpy reordering that fixes it', () => {
    const boxes = reordered(NODULES, [0, 2, 1]);
    const found = checkBoxesAgainstMask(boxes, mask, SPACING);
    assert.ok(found !== null);
    assert.deepEqual(found.missing, [0, 1]);
    assert.deepEqual(found.cause, { kind: 'reading', order: [0, 2, 1], millimetres: false, hits: 2 });
    const text = describeBoxMaskMismatch(found, boxes, FILES, SPACING);
    for (const fragment of [
      '2 of 2 box centres',
      'm_bboxes.npy',
      'look like (z, x, y), expected (z, y, x)',
    ]) {
      assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
    }
    assert.ok(text.includes('boxes[:, [0, 2, 1, 3]]'), text);
  });

  it('names a reversed order, (x, y, z), on a cube where such centres stay inside', () => {
    const cube: Shape3 = [40, 40, 40];
    const balls: Nodule[] = [
      { center: [6, 20, 30], diameter: 5 },
      { center: [30, 8, 16], diameter: 5 },
    ];
    const boxes = reordered(balls, [2, 1, 0]);
    const found = checkBoxesAgainstMask(boxes, maskViewOfVolume(volumeWithBalls(cube, balls)), null);
    assert.deepEqual(found?.cause, { kind: 'reading', order: [2, 1, 0], millimetres: false, hits: 2 });
    assert.ok(describeBoxMaskMismatch(found!, boxes, FILES, null).includes('look like (x, y, z)'));
  });

  it('names millimetres when the centres divided by the spacing hit', () => {
    const boxes = inMillimetres(NODULES, SPACING);
    const found = checkBoxesAgainstMask(boxes, mask, SPACING);
    assert.deepEqual(found?.cause, { kind: 'reading', order: [0, 1, 2], millimetres: true, hits: 2 });
    const text = describeBoxMaskMismatch(found!, boxes, FILES, SPACING);
    assert.ok(text.includes('look like millimetres, expected voxels'), text);
    assert.ok(text.includes('divided by the spacings (0.8, 0.7, 0.7)'), text);
  });

  it('does not try millimetres without a spacing, or with a spacing of 1', () => {
    const boxes = inMillimetres(NODULES, SPACING);
    for (const spacing of [null, undefined, [1, 1, 1] as Vec3]) {
      const found = checkBoxesAgainstMask(boxes, mask, spacing);
      assert.deepEqual(found?.missing, [0, 1]);
      assert.equal(found?.cause, null);
      assert.ok(describeBoxMaskMismatch(found!, boxes, FILES, spacing).includes('belong to the same series'));
    }
  });

  it('says the mask is empty when it has no nodule voxel, computed or not', () => {
    for (const withBox of [true, false]) {
      const empty = maskViewOfVolume(volumeWithBalls(SHAPE, [], withBox));
      const found = checkBoxesAgainstMask(NODULES, empty, SPACING);
      assert.deepEqual(found, { boxes: 2, missing: [0, 1], cause: { kind: 'empty-mask' } });
      assert.ok(describeBoxMaskMismatch(found!, NODULES, FILES, SPACING).includes('has no voxel above 0'));
    }
  });

  it('reports only the row that misses, and no cause that would lose the rows that hit', () => {
    const boxes = [NODULES[0]!, ...reordered([NODULES[1]!], [0, 2, 1])];
    const found = checkBoxesAgainstMask(boxes, mask, SPACING);
    assert.deepEqual(found?.missing, [1]);
    // Read as (z, x, y) row 1 hits but row 0 no longer does: as many hits as the boxes as written.
    assert.equal(found?.cause, null);
  });

  it('counts a centre outside the volume, as any reading may give, as a miss', () => {
    const boxes: Nodule[] = [{ center: [19.4, 47.4, 47.4], diameter: 5 }];
    assert.deepEqual(checkBoxesAgainstMask(boxes, mask, SPACING)?.missing, [0]);
  });
});
