import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AllocationMeter } from '../../../bench/allocation-meter.js';
import { mirroredAndTurned } from '../../../server/sampling/mirror-and-turn.js';
import type { Shape3 } from '../../../server/sampling/types.js';

/**
 * np.rot90(np.flip(m, flipped axes), k, axes=(1, 2)) written out voxel by voxel: rot90 k=1 takes
 * out[i, a, b] = m[i, b, s - 1 - a], k=2 m[i, s - 1 - a, s - 1 - b], k=3 m[i, s - 1 - b, a].
 */
function reference(flip: readonly boolean[], k: number, size: Shape3, crop: Uint8Array): Uint8Array {
  const [s0, s1, s2] = size;
  const mirrored = (i: number, j: number, l: number) =>
    crop[((flip[0] ? s0 - 1 - i : i) * s1 + (flip[1] ? s1 - 1 - j : j)) * s2 + (flip[2] ? s2 - 1 - l : l)]!;
  const out = new Uint8Array(crop.length);
  for (let i = 0; i < s0; i++)
    for (let a = 0; a < s1; a++)
      for (let b = 0; b < s2; b++) {
        const value =
          k === 0
            ? mirrored(i, a, b)
            : k === 1
              ? mirrored(i, b, s2 - 1 - a)
              : k === 2
                ? mirrored(i, s1 - 1 - a, s2 - 1 - b)
                : mirrored(i, s1 - 1 - b, a);
        out[(i * s1 + a) * s2 + b] = value;
      }
  return out;
}

describe('mirroredAndTurned', () => {
  // Planes of a multiple of 16 take the kernel's 16x16 block transpose, others its byte one; crops under 16
  // and under 32 bytes, and long ones, the reversal's middle and its 16-byte chunks.
  const sizes: Shape3[] = [
    [3, 8, 8],
    [2, 5, 5],
    [4, 6, 6],
    [3, 4, 7],
    [1, 12, 12],
    [1, 3, 3],
    [1, 2, 9],
    [2, 16, 16],
    [1, 32, 32],
    [3, 48, 48],
    [2, 16, 40],
    [4, 96, 96],
  ];
  for (const size of sizes) {
    it(`equals np.rot90(np.flip(crop)) for every mirror set and turn on a ${size.join('x')} crop`, () => {
      const n = size[0] * size[1] * size[2];
      const crop = Uint8Array.from({ length: n }, (_, i) => (i * 73 + 5) & 255);
      const turns = size[1] === size[2] ? [0, 1, 2, 3] : [0];
      for (let mask = 0; mask < 8; mask++) {
        const flip = [(mask & 1) !== 0, (mask & 2) !== 0, (mask & 4) !== 0] as [boolean, boolean, boolean];
        for (const k of turns) {
          const first = Uint8Array.from(crop);
          const out = mirroredAndTurned(flip, k, size, first);
          assert.deepEqual(Uint8Array.from(out), reference(flip, k, size, crop), `flip ${flip} k ${k}`);
          assert.deepEqual(first, crop, 'the crop itself is not changed');
        }
      }
    });
  }

  it('reads views that are not word aligned, and views into larger buffers, leaving them as they were', () => {
    const size: Shape3 = [2, 8, 8];
    const n = 128;
    const crop = Uint8Array.from({ length: n }, (_, i) => (i * 29 + 3) & 255);
    const backing = new Uint8Array(n + 8).fill(77);
    const first = backing.subarray(1, 1 + n);
    first.set(crop);
    // Mirrors along axis 1 (alone and with axis 0) copy rows, here byte by byte.
    for (const [flip, k] of [
      [[true, false, true], 3],
      [[false, true, false], 0],
      [[true, true, false], 0],
    ] as const) {
      const out = mirroredAndTurned(flip, k, size, first);
      assert.deepEqual(Uint8Array.from(out), reference(flip, k, size, crop), `flip ${flip} k ${k}`);
      assert.deepEqual(first, crop);
      assert.equal(backing[0], 77);
      assert.ok(backing.subarray(n + 1).every((v) => v === 77));
    }
  });

  it('gives a view that the next crop moved overwrites', () => {
    const size: Shape3 = [2, 16, 16];
    const n = 512;
    const a = Uint8Array.from({ length: n }, (_, i) => i & 255);
    const b = Uint8Array.from({ length: n }, (_, i) => (255 - i) & 255);
    const first = mirroredAndTurned([true, false, false], 0, size, a);
    const kept = Uint8Array.from(first);
    mirroredAndTurned([true, false, false], 0, size, b);
    assert.notDeepEqual(Uint8Array.from(first), kept, 'the first view now holds the second result');
    assert.deepEqual(kept, reference([true, false, false], 0, size, a));
  });

  it('mirrors a 16x96x96 crop along axis 1 without garbage per row', async () => {
    const size: Shape3 = [16, 96, 96];
    const n = size[0] * size[1] * size[2];
    const crop = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
    const calls = 50;
    const mirror = () => {
      for (let call = 0; call < calls; call++)
        mirroredAndTurned([call % 2 === 0, true, false], 0, size, crop);
    };
    // Compiled first: the optimising compiler's code and feedback live on the JS heap too.
    for (let round = 0; round < 3; round++) mirror();
    const meter = new AllocationMeter();
    const reading = await meter.measure(async () => mirror());
    // A view per row would be 1,536 objects of about 96 bytes per call, 7 MB in all.
    assert.ok(
      reading.heapBytes < 1024 * 1024,
      `${calls} mirrors allocated ${reading.heapBytes} bytes on the JS heap; expected under 1 MiB`,
    );
  });

  it('refuses turns of crops whose sizes 1 and 2 differ, and crops of the wrong length', () => {
    const n = 3 * 4 * 7;
    assert.throws(
      () => mirroredAndTurned([false, false, false], 1, [3, 4, 7], new Uint8Array(n)),
      /quarter turns need crop sizes 1 and 2 equal, got 3x4x7/,
    );
    assert.throws(
      () => mirroredAndTurned([false, false, false], 0, [3, 4, 7], new Uint8Array(n - 1)),
      /a 3x4x7 crop needs 84 voxels, got 83/,
    );
    assert.throws(
      () => mirroredAndTurned([false, false, false], 4, [2, 4, 4], new Uint8Array(32)),
      /rotate90 must be 0, 1, 2 or 3, got 4/,
    );
  });
});
