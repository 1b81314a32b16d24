import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rowGatherKernel } from '../../../server/sampling/gather-rows.js';

describe('rowGatherKernel', () => {
  it('gathers rows of any length, 16 bytes at a time from 16 with an overlapping last move, to any stride', () => {
    for (const rowBytes of [1, 5, 15, 16, 17, 31, 32, 33, 96, 100]) {
      for (const gap of [0, 3]) {
        const stride = rowBytes + 13;
        const toStride = rowBytes + gap;
        const rows = 5;
        const to = rows * stride + 7; // an odd offset: the kernel's loads and stores need no alignment
        const end = to + rows * toStride + 16;
        const {
          heap,
          exports: { gatherRows },
        } = rowGatherKernel.reserve(end);
        for (let i = 0; i < rows * stride; i++) heap[i] = (i * 7 + rowBytes) & 255;
        heap.fill(0xee, to, end);
        gatherRows(0, stride, rows, rowBytes, to, toStride);
        // Each row at its place; the gaps between rows and the bytes after the last untouched.
        const expected = Array.from({ length: rows * toStride + 16 }, (_, i) => {
          const [row, k] = [Math.floor(i / toStride), i % toStride];
          return row < rows && k < rowBytes ? heap[row * stride + k] : 0xee;
        });
        assert.deepEqual([...heap.subarray(to, end)], expected, `rows of ${rowBytes}, ${gap} apart`);
      }
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
