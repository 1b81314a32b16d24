import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowGatherKernel } from '../../../server/sampling/gather-rows.js';

describe('rowGatherKernel', () => {
  it('gathers rows of any length from 16 bytes, 16 at a time with an overlapping last move', () => {
    for (const rowBytes of [16, 17, 31, 32, 33, 96, 100]) {
      const stride = rowBytes + 13;
      const rows = 5;
      const to = rows * stride + 7; // an odd offset: the kernel's loads and stores need no alignment
      const {
        heap,
        exports: { gatherRows },
      } = rowGatherKernel.reserve(to + rows * rowBytes + 16);
      for (let i = 0; i < rows * stride; i++) heap[i] = (i * 7 + rowBytes) & 255;
      heap.fill(0xee, to, to + rows * rowBytes + 16);
      gatherRows(0, stride, rows, rowBytes, to);
      const expected = Array.from({ length: rows * rowBytes }, (_, i) => {
        const [row, k] = [Math.floor(i / rowBytes), i % rowBytes];
        return heap[row * stride + k];
      });
      assert.deepEqual([...heap.subarray(to, to + rows * rowBytes)], expected, `rows of ${rowBytes}`);
      assert.deepEqual(
        [...heap.subarray(to + rows * rowBytes, to + rows * rowBytes + 16)],
        Array(16).fill(0xee),
      );
    }
  });

  it('keeps its contents when its memory grows, and hands out a view of the grown memory', () => {
    const small = rowGatherKernel.reserve(1024);
    small.heap[1000] = 42;
    const large = rowGatherKernel.reserve(small.heap.length + 200_000);
    assert.ok(large.heap.length >= small.heap.length + 200_000);
    assert.equal(large.heap[1000], 42);
    assert.equal(rowGatherKernel.reserve(16), large, 'a smaller reservation keeps the same view');
  });
});
