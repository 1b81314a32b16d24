import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeNodulesLargerThanCrop,
  nodulesLargerThanCrop,
} from '../../../server/sampling/nodules-larger-than-crop.js';
import type { SeriesSummary } from '../../../server/sampling/types.js';

const SERIES: readonly SeriesSummary[] = [
  { uid: 'a', shape: [64, 128, 128], nodules: [{ center: [10, 10, 10], diameter: 12 }] },
  { uid: 'b', shape: [64, 128, 128], nodules: [] },
  {
    uid: 'c',
    shape: [64, 128, 128],
    nodules: [
      { center: [20, 60, 60], diameter: 4 },
      { center: [30, 60, 60], diameter: 30 },
      { center: [40, 60, 60], diameter: 16 },
    ],
  },
];

describe('nodulesLargerThanCrop', () => {
  it('counts the nodules whose diameter exceeds the crop on any axis, with the largest as the example', () => {
    const found = nodulesLargerThanCrop(SERIES, [16, 96, 96]);
    assert.deepEqual(found, { count: 1, of: 4, example: { uid: 'c', row: 1, diameter: 30, axes: [0] } });
    const text = describeNodulesLargerThanCrop(found, [16, 96, 96]);
    assert.equal(
      text?.startsWith(
        '1 of 4 nodules are larger than the crop 16x96x96 on an axis (largest: c row 1, diameter 30 > 16 on axis 0)',
      ),
      true,
      text ?? 'null',
    );
  });

  it('takes a nodule as large as the crop as fitting: 16 voxels in 16 slices', () => {
    const found = nodulesLargerThanCrop(SERIES, [16, 31, 31]);
    assert.equal(found.count, 1);
    assert.deepEqual(found.example?.axes, [0]);
  });

  it('names every axis the nodule exceeds, and says nothing when all fit', () => {
    const found = nodulesLargerThanCrop(SERIES, [8, 8, 96]);
    assert.equal(found.count, 3);
    assert.deepEqual(found.example, { uid: 'c', row: 1, diameter: 30, axes: [0, 1] });
    assert.ok(
      describeNodulesLargerThanCrop(found, [8, 8, 96])?.includes('diameter 30 > 8 on axis 0, 8 on axis 1'),
    );
    const none = nodulesLargerThanCrop(SERIES, [32, 32, 32]);
    assert.deepEqual(none, { count: 0, of: 4, example: null });
    assert.equal(describeNodulesLargerThanCrop(none, [32, 32, 32]), null);
  });
});
