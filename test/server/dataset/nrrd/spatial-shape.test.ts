import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spatialAxes, spatialShape } from '../../../../server/dataset/nrrd/spatial-shape.js';
import { isVoxelfeedError } from '../../../../server/errors.js';

/*
 * The rules on tables of sizes and kinds; nrrd-reader.test.ts checks the same rules on files teem's unu wrote.
 * Each expected shape is the sizes with the one axis the row names removed.
 */

describe('spatialShape', () => {
  const kept: Array<[string, number[], string[] | null, number[]]> = [
    ['a 3-D volume as it is, size-1 axes included', [1, 5, 1], null, [1, 5, 1]],
    ['the one size-1 axis of a 4-D volume without kinds', [5, 4, 1, 3], null, [5, 4, 3]],
    [
      'the axis marked scalar, past a spatial size-1 axis',
      [1, 5, 1, 12],
      ['domain', 'domain', 'scalar', 'domain'],
      [1, 5, 12],
    ],
    ['the axis marked stub among unknown kinds', [1, 5, 1, 12], ['???', '???', 'stub', '???'], [1, 5, 12]],
    ['a size-1 list axis, kinds in any case', [5, 4, 3, 1], ['DOMAIN', 'Space', 'domain', 'List'], [5, 4, 3]],
    [
      'the one size-1 axis of unknown kind among spatial ones',
      [5, 1, 4, 3],
      ['space', '???', 'space', 'space'],
      [5, 4, 3],
    ],
    [
      'the size-1 axis of kind none when the other size-1 axis is spatial',
      [1, 5, 1, 12],
      ['time', 'domain', 'none', 'domain'],
      [1, 5, 12],
    ],
  ];
  for (const [what, sizes, kinds, expected] of kept) {
    it(`drops ${what}`, () => {
      assert.deepEqual(spatialShape(sizes, kinds, 'v.nrrd'), expected);
      // spatialAxes names the axes kept, so per-axis fields (spacings) can be read for the same axes.
      const axes = spatialAxes(sizes, kinds, 'v.nrrd');
      assert.deepEqual(
        axes.map((axis) => sizes[axis]),
        expected,
      );
      assert.equal(new Set(axes).size, 3);
    });
  }

  const refused: Array<[string, number[], string[] | null, RegExp]> = [
    [
      'two size-1 axes without kinds',
      [1, 5, 1, 12],
      null,
      /sizes 1 5 1 12 has 2 axes of size 1 \(0, 2\).*kinds.*or write a 3-D file/,
    ],
    ['no size-1 axis', [5, 2, 2, 3], null, /sizes 5 2 2 3 has no axis of size 1.*one channel per file/],
    [
      'four spatial kinds',
      [5, 1, 4, 3],
      ['domain', 'domain', 'domain', 'domain'],
      /every axis of size 1 is spatial.*kinds/,
    ],
    [
      'a channel axis of 3 values',
      [3, 5, 4, 1],
      ['RGB-color', 'domain', 'domain', 'domain'],
      /3 channels along axis 0 \(kind RGB-color\)/,
    ],
    [
      'two non-spatial axes',
      [1, 5, 1, 12],
      ['scalar', 'domain', 'vector', 'domain'],
      /marks 2 axes \(0, 2\) as non-spatial/,
    ],
    [
      'two size-1 axes of unknown kind',
      [1, 5, 1, 12],
      ['???', 'domain', '???', 'domain'],
      /2 axes of size 1 \(0, 2\) and nothing tells/,
    ],
    ['a 2-D image', [5, 4], null, /sizes 5 4 is not a 3-D volume/],
    ['a 5-D volume', [5, 4, 3, 1, 1], null, /sizes 5 4 3 1 1 is not a 3-D volume/],
  ];
  for (const [what, sizes, kinds, pattern] of refused) {
    it(`refuses ${what} with DATA_LOSS naming the file and sizes`, () => {
      assert.throws(
        () => spatialShape(sizes, kinds, 'v.nrrd'),
        (error: unknown) => {
          assert.ok(isVoxelfeedError(error) && error.code === 'DATA_LOSS', String(error));
          assert.ok(error.message.startsWith(`v.nrrd: sizes ${sizes.join(' ')}`), error.message);
          assert.match(error.message, pattern);
          return true;
        },
      );
    });
  }
});
