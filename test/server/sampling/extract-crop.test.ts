import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractCrop } from '../../../server/sampling/extract-crop.js';
import { createRng } from '../../../server/sampling/rng.js';
import type { Shape3, Vec3, Volume } from '../../../server/sampling/types.js';

const SENTINEL = 0xab;

function randomVolume(key: number, shape: Shape3): Volume {
  const rng = createRng([key, 7]);
  const voxels = shape[0] * shape[1] * shape[2];
  const image = new Uint8Array(voxels);
  const mask = new Uint8Array(voxels);
  // Image values avoid the pad values used below so padding is always visible.
  for (let i = 0; i < voxels; i++) {
    image[i] = rng.nextInt(20, 250);
    mask[i] = rng.nextInt(0, 1);
  }
  return { shape, image, mask };
}

/** The slow voxel-by-voxel definition. */
function referenceCrop(volume: Volume, origin: Vec3, size: Shape3, padValue: number) {
  const [n0, n1, n2] = volume.shape;
  const image: number[] = [];
  const mask: number[] = [];
  for (let i = 0; i < size[0]; i++) {
    for (let j = 0; j < size[1]; j++) {
      for (let k = 0; k < size[2]; k++) {
        const x0 = origin[0] + i;
        const x1 = origin[1] + j;
        const x2 = origin[2] + k;
        const inside = x0 >= 0 && x0 < n0 && x1 >= 0 && x1 < n1 && x2 >= 0 && x2 < n2;
        const at = (x0 * n1 + x1) * n2 + x2;
        image.push(inside ? volume.image[at]! : padValue);
        mask.push(inside ? volume.mask[at]! : 0);
      }
    }
  }
  return { image: Uint8Array.from(image), mask: Uint8Array.from(mask) };
}

function cut(volume: Volume, origin: Vec3, size: Shape3, padValue: number, offset: number, withMask = true) {
  const voxels = size[0] * size[1] * size[2];
  const image = new Uint8Array(offset + voxels + 5).fill(SENTINEL);
  const mask = withMask ? new Uint8Array(offset + voxels + 5).fill(SENTINEL) : null;
  extractCrop(volume, { origin, size, padValue }, { image, mask, offset });
  return { image, mask, voxels };
}

function assertSlotOnly(out: Uint8Array, offset: number, voxels: number): void {
  for (let i = 0; i < offset; i++) assert.equal(out[i], SENTINEL, `byte ${i} before the slot was written`);
  for (let i = offset + voxels; i < out.length; i++)
    assert.equal(out[i], SENTINEL, `byte ${i} after the slot`);
}

describe('extractCrop', () => {
  const volume = randomVolume(1, [6, 7, 9]);
  const cases: [name: string, origin: Vec3, size: Shape3][] = [
    ['inside the volume', [1, 2, 3], [3, 4, 5]],
    ['the whole volume', [0, 0, 0], [6, 7, 9]],
    ['partly before the start on axis 0', [-2, 1, 1], [4, 3, 3]],
    ['partly past the end on axis 0', [4, 1, 1], [4, 3, 3]],
    ['partly before the start on axis 1', [1, -3, 1], [3, 5, 3]],
    ['partly past the end on axis 1', [1, 5, 1], [3, 5, 3]],
    ['partly before the start on axis 2', [1, 1, -4], [3, 3, 6]],
    ['partly past the end on axis 2', [1, 1, 7], [3, 3, 6]],
    ['past the edges on every axis at once', [-1, 5, -2], [8, 4, 13]],
    ['larger than the volume on every axis', [-3, -2, -5], [12, 11, 19]],
    ['wholly before the volume', [-10, 0, 0], [3, 3, 3]],
    ['wholly past the volume on axis 2 only', [0, 0, 9], [3, 3, 3]],
    ['wholly outside on every axis', [100, -100, 50], [2, 2, 2]],
    ['a single voxel', [5, 6, 8], [1, 1, 1]],
  ];
  for (const [name, origin, size] of cases) {
    it(`matches the voxel-by-voxel definition for a crop ${name}`, () => {
      const expected = referenceCrop(volume, origin, size, 7);
      const { image, mask, voxels } = cut(volume, origin, size, 7, 11);
      assert.deepEqual(image.subarray(11, 11 + voxels), expected.image);
      assert.deepEqual(mask!.subarray(11, 11 + voxels), expected.mask);
      assertSlotOnly(image, 11, voxels);
      assertSlotOnly(mask!, 11, voxels);
    });
  }

  it('matches the voxel-by-voxel definition for random volumes, origins, sizes, pads and offsets', () => {
    for (let key = 0; key < 300; key++) {
      const rng = createRng([key, 8]);
      const shape: Shape3 = [rng.nextInt(1, 8), rng.nextInt(1, 8), rng.nextInt(1, 8)];
      const vol = randomVolume(key, shape);
      const size: Shape3 = [rng.nextInt(1, 12), rng.nextInt(1, 12), rng.nextInt(1, 12)];
      const origin: Vec3 = [0, 1, 2].map((k) => rng.nextInt(-size[k]! - 2, shape[k]! + 2)) as unknown as Vec3;
      const padValue = rng.nextInt(0, 255);
      const offset = rng.nextInt(0, 40);
      const expected = referenceCrop(vol, origin, size, padValue);
      const { image, mask, voxels } = cut(vol, origin, size, padValue, offset);
      assert.deepEqual(image.subarray(offset, offset + voxels), expected.image, `key ${key}`);
      assert.deepEqual(mask!.subarray(offset, offset + voxels), expected.mask, `key ${key}`);
      assertSlotOnly(image, offset, voxels);
      assertSlotOnly(mask!, offset, voxels);
    }
  });

  it('pads the image with the pad value and the mask with 0', () => {
    const ones: Volume = {
      shape: [2, 2, 2],
      image: new Uint8Array(8).fill(1),
      mask: new Uint8Array(8).fill(1),
    };
    for (const padValue of [0, 1, 200, 255]) {
      const { image, mask } = cut(ones, [-1, -1, -1], [4, 4, 4], padValue, 0);
      const inside = (i: number) => {
        const [x0, x1, x2] = [Math.floor(i / 16) - 1, (Math.floor(i / 4) % 4) - 1, (i % 4) - 1];
        return x0 >= 0 && x0 < 2 && x1 >= 0 && x1 < 2 && x2 >= 0 && x2 < 2;
      };
      for (let i = 0; i < 64; i++) {
        assert.equal(image[i], inside(i) ? 1 : padValue);
        assert.equal(mask![i], inside(i) ? 1 : 0);
      }
    }
  });

  it('writes the image at imageOffset and the mask at offset when they differ, on every path', () => {
    // Row copies and pads (small volumes), slabs (rows of 16 voxels or more, inside), and wholly outside.
    const shapes: Shape3[] = [
      [6, 7, 9],
      [5, 20, 40],
    ];
    for (let key = 0; key < 120; key++) {
      const rng = createRng([key, 9]);
      const shape = shapes[key % 2]!;
      const vol = randomVolume(key, shape);
      const size: Shape3 =
        key % 2 === 0
          ? [rng.nextInt(1, 8), rng.nextInt(1, 8), rng.nextInt(1, 12)]
          : [3, rng.nextInt(1, 12), 16];
      const origin: Vec3 = [0, 1, 2].map((k) =>
        key % 4 === 1 ? rng.nextInt(0, shape[k]! - size[k]!) : rng.nextInt(-size[k]! - 2, shape[k]! + 2),
      ) as unknown as Vec3;
      const [imageOffset, offset] = [rng.nextInt(0, 20), rng.nextInt(0, 40)];
      const voxels = size[0] * size[1] * size[2];
      const image = new Uint8Array(imageOffset + voxels + 5).fill(SENTINEL);
      const mask = new Uint8Array(offset + voxels + 5).fill(SENTINEL);
      extractCrop(vol, { origin, size, padValue: 3 }, { image, imageOffset, mask, offset });
      const expected = referenceCrop(vol, origin, size, 3);
      assert.deepEqual(image.subarray(imageOffset, imageOffset + voxels), expected.image, `key ${key}`);
      assert.deepEqual(mask.subarray(offset, offset + voxels), expected.mask, `key ${key}`);
      assertSlotOnly(image, imageOffset, voxels);
      assertSlotOnly(mask, offset, voxels);
    }
  });

  it('writes only the image when the mask output is null', () => {
    const { image, mask, voxels } = cut(volume, [-1, 2, 4], [3, 3, 7], 9, 4, false);
    assert.equal(mask, null);
    assert.deepEqual(image.subarray(4, 4 + voxels), referenceCrop(volume, [-1, 2, 4], [3, 3, 7], 9).image);
    assertSlotOnly(image, 4, voxels);
  });

  it('fills consecutive slots of a batch independently', () => {
    const size: Shape3 = [2, 3, 4];
    const voxels = 24;
    const origins: Vec3[] = [
      [0, 0, 0],
      [-1, 5, 6],
      [50, 50, 50],
    ];
    const batch = new Uint8Array(voxels * origins.length);
    for (const [b, origin] of origins.entries())
      extractCrop(volume, { origin, size, padValue: 3 }, { image: batch, mask: null, offset: b * voxels });
    origins.forEach((origin, b) => {
      assert.deepEqual(
        batch.subarray(b * voxels, (b + 1) * voxels),
        referenceCrop(volume, origin, size, 3).image,
      );
    });
  });

  it('refuses a volume whose voxel arrays do not match its shape', () => {
    const short: Volume = { shape: [2, 2, 2], image: new Uint8Array(7), mask: new Uint8Array(8) };
    assert.throws(
      () =>
        extractCrop(
          short,
          { origin: [0, 0, 0], size: [2, 2, 2], padValue: 0 },
          { image: new Uint8Array(8), mask: null, offset: 0 },
        ),
      RangeError,
    );
  });

  it('reads a volume that is a view into a larger buffer from its own bytes', () => {
    const buffer = new Uint8Array(100).fill(99);
    const image = buffer.subarray(10, 18);
    image.set([0, 1, 2, 3, 4, 5, 6, 7]);
    const mask = buffer.subarray(50, 58);
    mask.set([1, 0, 1, 0, 1, 0, 1, 0]);
    const view: Volume = { shape: [2, 2, 2], image, mask };
    const { image: out, mask: outMask } = cut(view, [0, 0, -1], [2, 2, 3], 9, 0);
    assert.deepEqual([...out.subarray(0, 12)], [9, 0, 1, 9, 2, 3, 9, 4, 5, 9, 6, 7]);
    assert.deepEqual([...outMask!.subarray(0, 12)], [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0]);
  });

  it('refuses an output too small for the crop at its offset', () => {
    const out = new Uint8Array(30);
    assert.throws(
      () =>
        extractCrop(
          volume,
          { origin: [0, 0, 0], size: [2, 3, 4], padValue: 0 },
          { image: out, mask: null, offset: 7 },
        ),
      RangeError,
    );
    assert.throws(
      () =>
        extractCrop(
          volume,
          { origin: [0, 0, 0], size: [2, 3, 4], padValue: 0 },
          { image: out, mask: new Uint8Array(10), offset: 0 },
        ),
      RangeError,
    );
  });
});
