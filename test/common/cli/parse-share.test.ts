import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatShare, parseShare } from '../../../common/cli/parse-share.js';

describe('parseShare', () => {
  const cases: ReadonlyArray<readonly [string, number | null]> = [
    ['0.1', 0.1],
    ['.25', 0.25],
    ['1', 1],
    ['0', 0],
    ['1.', 1],
    [' 10% ', 0.1],
    ['12.5%', 0.125],
    ['100%', 1],
    ['0%', 0],
    ['1.01', null],
    ['101%', null],
    ['-0.1', null],
    ['', null],
    ['%', null],
    ['0x1', null],
    ['1e-1', null],
    ['ten', null],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)} as ${expected}`, () => {
      assert.equal(parseShare(text), expected);
    });
  }
});

describe('formatShare', () => {
  it('prints a percentage with at most three significant digits', () => {
    assert.deepEqual([0.1, 0.875, 1 / 24, 1, 0, 1 / 9000].map(formatShare), [
      '10%',
      '87.5%',
      '4.17%',
      '100%',
      '0%',
      '0.0111%',
    ]);
  });
});
