import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toServedVolume } from '../../../../server/dataset/loading/volume-layout.js';
import type { RawVolume } from '../../../../server/dataset/nrrd/nrrd-reader.js';
import { isVoxelfeedError } from '../../../../server/errors.js';
import { extractCrop } from '../../../../server/sampling/extract-crop.js';
import type { Shape3, Volume } from '../../../../server/sampling/types.js';

/** The mask a request without keep_labels sees: the whole volume cut as one crop. */
function binaryMask(volume: Volume): number[] {
  const total = volume.mask.length;
  const mask = new Uint8Array(total);
  extractCrop(
    volume,
    { origin: [0, 0, 0], size: volume.shape, padValue: 0 },
    { image: new Uint8Array(total), mask, offset: 0 },
  );
  return Array.from(mask);
}

/** A deterministic byte pattern with no structure a wrong index formula could hide behind. */
function pattern(count: number, salt: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let i = 0; i < count; i++) bytes[i] = (Math.imul(i + salt, 2654435761) >>> 24) & 0xff;
  return bytes;
}

function uint8Volume(sizes: Shape3, data: Uint8Array): RawVolume {
  return { sizes, type: 'uint8', data };
}

/** The slow, obviously correct reference: voxel (x0, x1, x2) read from file order, written in C order. */
function referenceTranspose(input: ArrayLike<number>, [n0, n1, n2]: Shape3): number[] {
  const out: number[] = [];
  for (let x0 = 0; x0 < n0; x0++) {
    for (let x1 = 0; x1 < n1; x1++) {
      for (let x2 = 0; x2 < n2; x2++) out.push(input[x0 + n0 * (x1 + n1 * x2)]!);
    }
  }
  return out;
}

describe('toServedVolume', () => {
  // Sizes under, at and past the 16x16 blocks the transposer moves (the rest go byte by byte), and one
  // whose planes take two chunks (130 * 100 voxels a plane: 40 planes a chunk).
  const shapes: Shape3[] = [
    [5, 7, 3],
    [9, 6, 11],
    [4, 4, 8],
    [1, 3, 2],
    [33, 2, 17],
    [16, 5, 20],
    [2, 1, 1],
    [37, 9, 50],
    [130, 70, 100],
  ];
  for (const shape of shapes) {
    it(`reorders a ${shape.join('x')} volume from file order to C order`, async () => {
      const count = shape[0] * shape[1] * shape[2];
      const image = pattern(count, 1);
      const mask = pattern(count, 2).map((v) => (v & 1 ? 1 : 0));
      const volume = await toServedVolume(
        uint8Volume(shape, image),
        uint8Volume(shape, mask),
        'i.nrrd',
        'm.nrrd',
      );
      assert.deepEqual(volume.shape, shape);
      assert.deepEqual(Array.from(volume.image), referenceTranspose(image, shape));
      assert.deepEqual(Array.from(volume.mask), referenceTranspose(mask, shape));
    });
  }

  it('clamps int16 images to 0..255', async () => {
    const values = [-32768, -300, -1, 0, 7, 254, 255, 256, 1000, 32767];
    const shape: Shape3 = [values.length, 1, 1];
    const image: RawVolume = { sizes: shape, type: 'int16', data: Int16Array.from(values) };
    const volume = await toServedVolume(image, uint8Volume(shape, new Uint8Array(values.length)), 'i', 'm');
    assert.deepEqual(Array.from(volume.image), [0, 0, 0, 0, 7, 254, 255, 255, 255, 255]);
  });

  it('rounds float32 images to the nearest integer, ties to even, and clamps to 0..255 with NaN as 0', async () => {
    const values = [
      0.4,
      0.5,
      0.6,
      1.5,
      2.5,
      3.49,
      254.5,
      254.6,
      255.5,
      -0.4,
      -7,
      Number.NaN,
      Infinity,
      -Infinity,
    ];
    const expected = [0, 0, 1, 2, 2, 3, 254, 255, 255, 0, 0, 0, 255, 0];
    const shape: Shape3 = [1, values.length, 1];
    const image: RawVolume = { sizes: shape, type: 'float32', data: Float32Array.from(values) };
    const volume = await toServedVolume(image, uint8Volume(shape, new Uint8Array(values.length)), 'i', 'm');
    assert.deepEqual(Array.from(volume.image), expected);
  });

  it('keeps integer mask labels clamped to 0..255 and turns float masks into 0/1; crops see 0/1 either way', async () => {
    const cases: [RawVolume['type'], ArrayLike<number>, number[]][] = [
      ['int16', Int16Array.from([-3, 0, 1, 2, 300, -32768]), [0, 0, 1, 2, 255, 0]],
      ['int8', Int8Array.from([-1, 0, 1, 127, -128, 5]), [0, 0, 1, 127, 0, 5]],
      ['uint32', Uint32Array.from([0, 1, 4294967295, 256, 0, 65536]), [0, 1, 255, 255, 0, 255]],
      ['float32', Float32Array.from([0.3, -0.2, 0, Number.NaN, 5, 1e-30]), [1, 0, 0, 0, 1, 1]],
      ['float64', Float64Array.from([0.3, -0.2, 0, Number.NaN, 5, 5e-324]), [1, 0, 0, 0, 1, 1]],
    ];
    for (const [type, values, expected] of cases) {
      const shape: Shape3 = [1, 1, values.length];
      const mask = { sizes: shape, type, data: values } as RawVolume;
      const volume = await toServedVolume(uint8Volume(shape, new Uint8Array(6)), mask, 'i', 'm');
      assert.deepEqual(Array.from(volume.mask), expected, `mask of type ${type}`);
      assert.deepEqual(
        binaryMask(volume),
        expected.map((v) => (v > 0 ? 1 : 0)),
        `crop mask of type ${type}`,
      );
      assert.deepEqual(
        volume.labelIndex?.labels,
        [...new Set(expected.filter((v) => v > 0))].sort((a, b) => a - b),
      );
    }
  });

  it('keeps every byte of a uint8 mask, at every position, and crops turn non-zero bytes into 1', async () => {
    const shape: Shape3 = [7, 5, 9]; // 315 voxels: every byte value, and a length that is not a multiple of 4
    const mask = Uint8Array.from({ length: 315 }, (_, i) => (i * 7) % 256);
    const volume = await toServedVolume(
      uint8Volume(shape, pattern(315, 3)),
      uint8Volume(shape, mask),
      'i',
      'm',
    );
    assert.deepEqual(Array.from(volume.mask), referenceTranspose(mask, shape));
    assert.deepEqual(
      binaryMask(volume),
      referenceTranspose(mask, shape).map((v) => (v > 0 ? 1 : 0)),
    );
  });

  it('refuses an image and a mask of different shapes, naming both files and shapes', async () => {
    const image = uint8Volume([4, 5, 6], new Uint8Array(120));
    const mask = uint8Volume([4, 6, 5], new Uint8Array(120));
    await assert.rejects(
      toServedVolume(image, mask, '/d/a_clean.nrrd', '/d/a_mask.nrrd'),
      (error: unknown) => {
        assert.ok(isVoxelfeedError(error));
        assert.equal(error.code, 'DATA_LOSS');
        assert.match(
          error.message,
          /\/d\/a_clean\.nrrd has shape 4x5x6 but mask \/d\/a_mask\.nrrd has 4x6x5/,
        );
        return true;
      },
    );
  });

  it('yields to the event loop while converting a 128x192x192 volume, and spot-checks it', async () => {
    const shape: Shape3 = [128, 192, 192];
    const count = shape[0] * shape[1] * shape[2];
    const image = pattern(count, 5);
    const mask = pattern(count, 6);
    let ticks = 0;
    let done = false;
    const tick = (): void => {
      ticks++;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    // The ticking stops however the conversion ends, so a failure fails the test instead of keeping it alive.
    const volume = await toServedVolume(
      uint8Volume(shape, image),
      uint8Volume(shape, mask),
      'i',
      'm',
    ).finally(() => {
      done = true;
    });
    assert.ok(
      ticks >= 10,
      `other callbacks ran only ${ticks} times while a 4.7 M voxel volume was converted`,
    );
    const [n0, n1, n2] = shape;
    for (let k = 0; k < 5000; k++) {
      const x0 = (k * 31) % n0;
      const x1 = (k * 17) % n1;
      const x2 = (k * 13) % n2;
      const from = x0 + n0 * (x1 + n1 * x2);
      const to = (x0 * n1 + x1) * n2 + x2;
      assert.equal(volume.image[to], image[from]);
      assert.equal(volume.mask[to], mask[from]);
    }
  });

  it('keeps the image and mask in shared memory, which crop workers read without a copy', async () => {
    const shape: Shape3 = [5, 7, 3];
    const count = shape[0] * shape[1] * shape[2];
    const volume = await toServedVolume(
      uint8Volume(shape, pattern(count, 7)),
      uint8Volume(shape, pattern(count, 8)),
      'i',
      'm',
    );
    assert.ok(volume.image.buffer instanceof SharedArrayBuffer);
    assert.ok(volume.mask.buffer instanceof SharedArrayBuffer);
    assert.notEqual(volume.image.buffer, volume.mask.buffer);
  });
});
