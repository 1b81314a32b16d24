import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countCropForeground } from '../../../server/sampling/count-crop-foreground.js';
import { extractCrop } from '../../../server/sampling/extract-crop.js';
import { findMaskBox } from '../../../server/sampling/mask-box.js';
import { createRng } from '../../../server/sampling/rng.js';
import type { Shape3, Vec3, Volume } from '../../../server/sampling/types.js';

/** A volume whose mask holds a few solid blobs of labels 1 and 2, the rest zeros. */
function blobVolume(key: number, shape: Shape3): Volume {
  const rng = createRng([key, 11]);
  const [n0, n1, n2] = shape;
  const mask = new Uint8Array(n0 * n1 * n2);
  for (let blob = 0; blob < 3; blob++) {
    const c = [rng.nextInt(0, n0 - 1), rng.nextInt(0, n1 - 1), rng.nextInt(0, n2 - 1)];
    const r = rng.nextInt(1, 4);
    const label = rng.nextInt(1, 2);
    for (let x0 = 0; x0 < n0; x0++) {
      for (let x1 = 0; x1 < n1; x1++) {
        for (let x2 = 0; x2 < n2; x2++) {
          const d = (x0 - c[0]!) ** 2 + (x1 - c[1]!) ** 2 + (x2 - c[2]!) ** 2;
          if (d <= r * r) mask[(x0 * n1 + x1) * n2 + x2] = label;
        }
      }
    }
  }
  return { shape, image: new Uint8Array(mask.length), mask };
}

/** The count by definition: cut the padded mask and count its non-zero bytes. */
function countOfCutMask(volume: Volume, origin: Vec3, size: Shape3): number {
  const voxels = size[0] * size[1] * size[2];
  const mask = new Uint8Array(voxels);
  extractCrop(volume, { origin, size, padValue: 0 }, { image: new Uint8Array(voxels), mask, offset: 0 });
  return mask.reduce((sum, v) => sum + (v !== 0 ? 1 : 0), 0);
}

describe('countCropForeground', () => {
  it('equals the non-zero voxels of the cut mask, padding as background, with and without the mask box', () => {
    let touched = 0;
    for (let key = 0; key < 40; key++) {
      const shape: Shape3 = [9 + (key % 5), 11 + (key % 3), 13];
      const plain = blobVolume(key, shape);
      const boxed = { ...plain, maskBox: findMaskBox(plain.mask, shape) };
      const rng = createRng([key, 12]);
      for (let trial = 0; trial < 25; trial++) {
        const size: Shape3 = [rng.nextInt(1, 12), rng.nextInt(1, 14), rng.nextInt(1, 16)];
        const origin: Vec3 = [
          rng.nextInt(-8, shape[0]),
          rng.nextInt(-8, shape[1]),
          rng.nextInt(-8, shape[2]),
        ];
        const expected = countOfCutMask(plain, origin, size);
        if (expected > 0) touched += 1;
        assert.equal(countCropForeground(plain, origin, size), expected, `key ${key} ${origin} ${size}`);
        assert.equal(
          countCropForeground(boxed, origin, size),
          expected,
          `boxed key ${key} ${origin} ${size}`,
        );
      }
    }
    assert.ok(touched > 100, `only ${touched} crops held foreground: the loop tests too little`);
  });

  it('counts long rows in a mask that starts off an 8-byte boundary, word by word and byte by byte', () => {
    for (let key = 0; key < 12; key++) {
      const shape: Shape3 = [6, 7, 40 + key];
      const source = blobVolume(100 + key, shape);
      const shifted = new Uint8Array(source.mask.length + 8).subarray(key % 8);
      shifted.set(source.mask);
      const volume = { ...source, mask: shifted.subarray(0, source.mask.length) };
      const rng = createRng([key, 13]);
      for (let trial = 0; trial < 30; trial++) {
        const size: Shape3 = [rng.nextInt(1, 8), rng.nextInt(1, 9), rng.nextInt(1, 60)];
        const origin: Vec3 = [rng.nextInt(-3, 6), rng.nextInt(-3, 7), rng.nextInt(-20, 40)];
        assert.equal(
          countCropForeground(volume, origin, size),
          countOfCutMask(source, origin, size),
          `key ${key} ${origin} ${size}`,
        );
      }
    }
  });

  it('counts a mask shorter than its distance to the next 8-byte boundary', () => {
    // 1x1x3 voxels starting 1 byte past a boundary: no whole word, so no word view of the mask.
    const mask = new Uint8Array(new ArrayBuffer(16), 1, 3);
    mask.set([1, 0, 1]);
    const volume: Volume = { shape: [1, 1, 3], image: new Uint8Array(3), mask };
    assert.equal(countCropForeground(volume, [0, 0, 0], [1, 1, 3]), 2);
    assert.equal(countCropForeground(volume, [0, 0, 1], [1, 1, 2]), 1);
  });

  it('is 0 for an all-zero mask (box null) and for a crop wholly outside the volume', () => {
    const shape: Shape3 = [4, 4, 4];
    const volume: Volume = { shape, image: new Uint8Array(64), mask: new Uint8Array(64).fill(1) };
    assert.equal(countCropForeground(volume, [0, 0, 0], [4, 4, 4]), 64);
    assert.equal(countCropForeground(volume, [-2, -2, -2], [4, 4, 4]), 8);
    assert.equal(countCropForeground(volume, [4, 0, 0], [4, 4, 4]), 0);
    assert.equal(countCropForeground({ ...volume, maskBox: null }, [0, 0, 0], [4, 4, 4]), 0);
  });
});
