import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applySpatialAugmentation,
  augmentUint8Crop,
  toStoredVoxel,
  writeAugmentedFloat32,
} from '../../../server/sampling/apply-augmentation.js';
import type { AugmentParams, Shape3 } from '../../../server/sampling/types.js';

const NONE: AugmentParams = {
  flip: [false, false, false],
  rotate90: 0,
  gamma: undefined,
  scale: undefined,
  shift: undefined,
  noiseStd: undefined,
  noiseSeed: 0,
};

/** The crop as nested arrays [i][j][k], to compare against transforms written out by index. */
function at(data: Uint8Array, size: Shape3, i: number, j: number, k: number): number {
  return data[(i * size[1] + j) * size[2] + k]!;
}

describe('applySpatialAugmentation', () => {
  const size: Shape3 = [3, 4, 4];
  const source = Uint8Array.from({ length: 48 }, (_, i) => i);

  function transformed(params: Partial<AugmentParams>): Uint8Array {
    const tensor = new Uint8Array(60).fill(255);
    tensor.set(source, 6);
    applySpatialAugmentation({ ...NONE, ...params }, size, tensor, 6);
    assert.ok(tensor.subarray(0, 6).every((v) => v === 255) && tensor.subarray(54).every((v) => v === 255));
    return tensor.subarray(6, 54);
  }

  it('rotates as np.rot90(crop, k, axes=(1, 2)) for k = 1, 2, 3', () => {
    const s = 4;
    const rules: Record<number, (i: number, a: number, b: number) => number> = {
      // numpy: rot90 k=1 is transpose(flip(m, 2)); k=2 flips both axes; k=3 is flip(transpose(m), 2).
      1: (i, a, b) => at(source, size, i, b, s - 1 - a),
      2: (i, a, b) => at(source, size, i, s - 1 - a, s - 1 - b),
      3: (i, a, b) => at(source, size, i, s - 1 - b, a),
    };
    for (const k of [1, 2, 3]) {
      const out = transformed({ rotate90: k });
      for (let i = 0; i < 3; i++)
        for (let a = 0; a < s; a++)
          for (let b = 0; b < s; b++)
            assert.equal(at(out, size, i, a, b), rules[k]!(i, a, b), `k ${k} (${i},${a},${b})`);
    }
  });

  it('mirrors each axis, then rotates; four quarter turns or two mirrors give the crop back', () => {
    const out = transformed({ flip: [true, false, true], rotate90: 1 });
    for (let i = 0; i < 3; i++)
      for (let a = 0; a < 4; a++)
        for (let b = 0; b < 4; b++)
          assert.equal(at(out, size, i, a, b), at(source, size, 2 - i, b, 3 - (3 - a)));
    const tensor = Uint8Array.from(source);
    for (let turn = 0; turn < 4; turn++) applySpatialAugmentation({ ...NONE, rotate90: 1 }, size, tensor, 0);
    assert.deepEqual(tensor, source);
    for (let twice = 0; twice < 2; twice++)
      applySpatialAugmentation({ ...NONE, flip: [true, true, true] }, size, tensor, 0);
    assert.deepEqual(tensor, source);
  });
});

describe('intensity transforms', () => {
  it('give every stored voxel back unchanged through v / 255 and back to uint8', () => {
    for (let v = 0; v < 256; v++) assert.equal(toStoredVoxel(Math.fround(v / 255)), v);
  });

  it('round halves to even and clamp to 0..255', () => {
    assert.equal(toStoredVoxel(2.5 / 255), 2);
    assert.equal(toStoredVoxel(3.5 / 255), 4);
    assert.equal(toStoredVoxel(-0.3), 0);
    assert.equal(toStoredVoxel(1.7), 255);
    assert.equal(toStoredVoxel(Number.NaN), 0);
  });

  it('apply gamma, then scale, then shift, each in float32, the same way for float32 and uint8 output', () => {
    const params: AugmentParams = {
      ...NONE,
      gamma: Math.fround(1.3),
      scale: Math.fround(0.9),
      shift: Math.fround(0.05),
    };
    const voxels = Uint8Array.from({ length: 256 }, (_, v) => v);
    const floats = new Float32Array(256);
    writeAugmentedFloat32(params, [1, 1, 256], voxels, floats);
    const bytes = Uint8Array.from(voxels);
    augmentUint8Crop(params, [1, 1, 256], bytes, 0);
    for (let v = 0; v < 256; v++) {
      let x = Math.fround(v / 255);
      x = Math.fround(x ** params.gamma!);
      x = Math.fround(x * params.scale!);
      x = Math.fround(x + params.shift!);
      assert.equal(floats[v], x);
      assert.equal(bytes[v], toStoredVoxel(x));
    }
  });

  it('adds noise that depends on the seed and the voxel, with about the drawn std', () => {
    const n = 20_001;
    const voxels = new Uint8Array(n).fill(128);
    const base = Math.fround(128 / 255);
    const noisy = (noiseSeed: number) => {
      const out = new Float32Array(n);
      writeAugmentedFloat32({ ...NONE, noiseStd: Math.fround(0.1), noiseSeed }, [1, 1, n], voxels, out);
      return out;
    };
    const a = noisy(1);
    assert.deepEqual(noisy(1), a);
    assert.notDeepEqual(noisy(2), a);
    const deltas = Array.from(a, (x) => x - base);
    const mean = deltas.reduce((s, d) => s + d, 0) / n;
    const std = Math.sqrt(deltas.reduce((s, d) => s + (d - mean) ** 2, 0) / n);
    assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.1) < 0.005, `std ${std}`);
  });
});

describe('one pass for every transform', () => {
  it('gives what mirroring and turning first, then the intensity transforms, give (float32 and uint8)', () => {
    const size: Shape3 = [3, 5, 5];
    const n = 75;
    const crop = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 255);
    const spatial: AugmentParams = { ...NONE, flip: [true, false, true], rotate90: 3 };
    const intensity = {
      gamma: Math.fround(0.8),
      scale: Math.fround(1.1),
      noiseStd: Math.fround(0.05),
      noiseSeed: 77,
    };
    const moved = Uint8Array.from(crop);
    applySpatialAugmentation(spatial, size, moved, 0);
    const expectedFloats = new Float32Array(n);
    writeAugmentedFloat32({ ...NONE, ...intensity }, size, moved, expectedFloats);
    const floats = new Float32Array(n);
    writeAugmentedFloat32({ ...spatial, ...intensity }, size, crop, floats);
    assert.deepEqual(floats, expectedFloats);
    const expectedBytes = Uint8Array.from(moved);
    augmentUint8Crop({ ...NONE, ...intensity }, size, expectedBytes, 0);
    const bytes = new Uint8Array(n + 10).fill(9);
    bytes.set(crop, 4);
    augmentUint8Crop({ ...spatial, ...intensity }, size, bytes, 4);
    assert.deepEqual(bytes.subarray(4, 4 + n), expectedBytes);
    assert.ok(bytes.subarray(0, 4).every((v) => v === 9) && bytes.subarray(4 + n).every((v) => v === 9));
    // Mirrors and turns alone keep the stored voxels.
    const still = Uint8Array.from(crop);
    augmentUint8Crop(spatial, size, still, 0);
    assert.deepEqual(still, moved);
  });
});
