import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractCrop } from '../../../server/sampling/extract-crop.js';
import { findMaskBox } from '../../../server/sampling/mask-box.js';
import { createRng } from '../../../server/sampling/rng.js';
import type { Shape3, Vec3, Volume } from '../../../server/sampling/types.js';

/** The box by brute force: every voxel visited, no word tricks. */
function slowBox(mask: Uint8Array, [n0, n1, n2]: Shape3) {
  const lo = [n0, n1, n2];
  const hi = [0, 0, 0];
  for (let x0 = 0; x0 < n0; x0++)
    for (let x1 = 0; x1 < n1; x1++)
      for (let x2 = 0; x2 < n2; x2++) {
        if (mask[(x0 * n1 + x1) * n2 + x2] === 0) continue;
        [x0, x1, x2].forEach((x, axis) => {
          lo[axis] = Math.min(lo[axis]!, x);
          hi[axis] = Math.max(hi[axis]!, x + 1);
        });
      }
  return hi[0] === 0 ? null : { lo, hi };
}

describe('findMaskBox', () => {
  it('finds the same box as a voxel-by-voxel scan, for masks with a few blobs and at unaligned offsets', () => {
    for (let trial = 0; trial < 60; trial++) {
      const rng = createRng([trial, 77]);
      const shape: Shape3 = [rng.nextInt(1, 9), rng.nextInt(1, 13), rng.nextInt(1, 17)];
      const voxels = shape[0] * shape[1] * shape[2];
      const offset = rng.nextInt(0, 7);
      const mask = new Uint8Array(new ArrayBuffer(voxels + 8), offset, voxels);
      const blobs = rng.nextInt(0, 3);
      for (let b = 0; b < blobs; b++) mask[rng.nextInt(0, voxels - 1)] = 1;
      const expected = slowBox(mask, shape);
      assert.deepEqual(
        findMaskBox(mask, shape),
        expected === null ? null : { lo: expected.lo, hi: expected.hi },
      );
    }
  });

  it('sees one voxel at any position and any alignment: before, inside and after the 16-byte steps', () => {
    for (let offset = 0; offset < 4; offset++) {
      for (let length = 1; length <= 70; length++) {
        const shape: Shape3 = [1, 1, length];
        for (let at = 0; at < length; at++) {
          const mask = new Uint8Array(new ArrayBuffer(length + 8), offset, length);
          mask[at] = 1 << (at % 8);
          assert.deepEqual(
            findMaskBox(mask, shape),
            { lo: [0, 0, at], hi: [1, 1, at + 1] },
            `offset ${offset}, length ${length}, voxel ${at}`,
          );
        }
      }
    }
  });

  it('returns null for an all-zero mask', () => {
    assert.equal(findMaskBox(new Uint8Array(4 * 5 * 6), [4, 5, 6]), null);
  });

  it('sees a voxel whose word reads as the double -0 (only the sign bit set)', () => {
    const mask = new Uint8Array(16);
    mask[15] = 0x80;
    mask[8] = 0;
    assert.deepEqual(findMaskBox(mask, [1, 1, 16]), { lo: [0, 0, 15], hi: [1, 1, 16] });
    const first = new Uint8Array(16);
    first[8] = 0x80;
    assert.deepEqual(findMaskBox(first, [1, 1, 16]), { lo: [0, 0, 8], hi: [1, 1, 9] });
  });
});

describe('extractCrop with a mask box', () => {
  it('cuts the same mask with and without the box, for random crops in and around the volume', () => {
    for (let trial = 0; trial < 200; trial++) {
      const rng = createRng([trial, 78]);
      const shape: Shape3 = [rng.nextInt(2, 10), rng.nextInt(2, 12), rng.nextInt(2, 14)];
      const voxels = shape[0] * shape[1] * shape[2];
      const image = new Uint8Array(voxels).map((_, i) => i % 251);
      const mask = new Uint8Array(voxels);
      for (let b = rng.nextInt(0, 4); b > 0; b--) mask[rng.nextInt(0, voxels - 1)] = 1;
      const plain: Volume = { shape, image, mask };
      const boxed: Volume = { ...plain, maskBox: findMaskBox(mask, shape) };
      const size: Shape3 = [rng.nextInt(1, 8), rng.nextInt(1, 8), rng.nextInt(1, 8)];
      const origin: Vec3 = [rng.nextInt(-6, shape[0]), rng.nextInt(-6, shape[1]), rng.nextInt(-6, shape[2])];
      const n = size[0] * size[1] * size[2];
      const outs = [plain, boxed].map((volume) => {
        const outImage = new Uint8Array(n + 4).fill(9);
        const outMask = new Uint8Array(n + 4).fill(9);
        extractCrop(volume, { origin, size, padValue: 3 }, { image: outImage, mask: outMask, offset: 2 });
        return { outImage, outMask };
      });
      assert.deepEqual(outs[1], outs[0], `trial ${trial}`);
    }
  });

  it('cuts the same mask with and without the box when the box crosses the crop in many rows (by slabs)', () => {
    for (let trial = 0; trial < 120; trial++) {
      const rng = createRng([trial, 79]);
      const shape: Shape3 = [rng.nextInt(3, 12), rng.nextInt(20, 48), rng.nextInt(20, 64)];
      const voxels = shape[0] * shape[1] * shape[2];
      const shared = trial % 2 === 0;
      const memory = (length: number) =>
        shared ? new Uint8Array(new SharedArrayBuffer(length)) : new Uint8Array(length);
      const image = memory(voxels).map((_, i) => i % 251);
      const mask = memory(voxels);
      // A few blobs far apart: a box over much of the volume, with zeros and labels inside it.
      for (let b = rng.nextInt(2, 6); b > 0; b--) mask[rng.nextInt(0, voxels - 1)] = rng.nextInt(1, 3);
      for (let i = 0; i < voxels; i += rng.nextInt(1, 40)) mask[i] = mask[i] || (i % 3) % 2;
      const plain: Volume = { shape, image, mask };
      const boxed: Volume = { ...plain, maskBox: findMaskBox(mask, shape) };
      const size: Shape3 = [rng.nextInt(1, 8), rng.nextInt(4, 20), rng.nextInt(1, 40)];
      const origin: Vec3 = [
        rng.nextInt(-2, shape[0] - 1),
        rng.nextInt(-4, shape[1] - 4),
        rng.nextInt(-4, shape[2] - 4),
      ];
      const n = size[0] * size[1] * size[2];
      const outs = [plain, boxed].map((volume) => {
        const outImage = memory(n + 4).fill(9);
        const outMask = memory(n + 4).fill(9);
        extractCrop(
          volume,
          { origin, size, padValue: 3, keepLabels: true },
          { image: outImage, mask: outMask, offset: 3 },
        );
        return { outImage: [...outImage], outMask: [...outMask] };
      });
      assert.deepEqual(outs[1], outs[0], `trial ${trial}`);
    }
  });
});
