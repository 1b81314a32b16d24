import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copyBytes, fillBytes } from '../../../server/sampling/bulk-bytes.js';

const MEMORIES = {
  plain: (length: number) => new Uint8Array(length),
  shared: (length: number) => new Uint8Array(new SharedArrayBuffer(length)),
};

/** Bytes that differ from their neighbours, so a range copied one byte off shows. */
function pattern(bytes: Uint8Array, salt: number): Uint8Array {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + salt) & 255;
  return bytes;
}

describe('fillBytes', () => {
  for (const [memory, make] of Object.entries(MEMORIES)) {
    it(`fills exactly [from, to) of ${memory} memory, short and long runs, at unaligned offsets`, () => {
      for (const [from, length] of [
        [0, 0],
        [3, 1],
        [5, 127],
        [5, 128],
        [1, 4097],
        [9, 150_001],
      ] as const) {
        for (const value of [0, 1, 200, 255]) {
          const target = pattern(make(from + length + 9), 3);
          const expected = pattern(new Uint8Array(target.length), 3).fill(value, from, from + length);
          fillBytes(target, value, from, from + length);
          assert.deepEqual(target, expected, `value ${value} at ${from}, ${length} bytes`);
        }
      }
    });
  }

  it('fills a view at its own offsets, not its buffer’s', () => {
    const whole = pattern(MEMORIES.shared(1000), 1);
    const view = whole.subarray(100, 900);
    fillBytes(view, 42, 10, 510);
    const expected = pattern(new Uint8Array(1000), 1).fill(42, 110, 610);
    assert.deepEqual(whole, expected);
  });

  it('names a value that is not a byte and a range outside the target', () => {
    assert.throws(() => fillBytes(new Uint8Array(1000), 256, 0, 500), /256 is not a byte value/);
    assert.throws(() => fillBytes(new Uint8Array(1000), 0, 600, 1200), /600 bytes at 600 do not fit 1000/);
  });
});

describe('copyBytes', () => {
  for (const [targetMemory, makeTarget] of Object.entries(MEMORIES)) {
    for (const [sourceMemory, makeSource] of Object.entries(MEMORIES)) {
      it(`copies ${sourceMemory} into ${targetMemory} memory like set, short and long runs`, () => {
        for (const [at, length] of [
          [0, 0],
          [1, 96],
          [7, 128],
          [13, 9216],
          [3, 589_825],
        ] as const) {
          const source = pattern(makeSource(length + 5), 11).subarray(5);
          const target = pattern(makeTarget(at + length + 3), 2);
          const expected = pattern(new Uint8Array(target.length), 2);
          expected.set(source, at);
          copyBytes(target, source, at);
          assert.deepEqual(target, expected, `${length} bytes at ${at}`);
        }
      });
    }
  }

  it('copies overlapping ranges of one buffer as set does (memmove)', () => {
    for (const shift of [-300, -1, 1, 300]) {
      const bytes = pattern(MEMORIES.shared(4096), 5);
      const expected = pattern(new Uint8Array(4096), 5);
      expected.set(expected.slice(1000, 3000), 1000 + shift);
      copyBytes(bytes, bytes.subarray(1000, 3000), 1000 + shift);
      assert.deepEqual(bytes, expected, `shift ${shift}`);
    }
  });

  it('names a range outside the target', () => {
    assert.throws(
      () => copyBytes(new Uint8Array(1000), new Uint8Array(500), 501),
      /500 bytes at 501 do not fit 1000/,
    );
  });
});
