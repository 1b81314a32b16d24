import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toStoredVoxel } from '../../../server/sampling/apply-augmentation.js';
import { NORMAL_QUANTILES, noiseQuantileIndex } from '../../../server/sampling/gaussian-noise.js';
import { noisyBytesByTable, noisyFloatsByTable } from '../../../server/sampling/intensity-kernel.js';
import { createRng } from '../../../server/sampling/rng.js';

/** The definition, one voxel at a time in JavaScript: x = float32(table[v] + float32(std * z_i)). */
function noisyReference(source: Uint8Array, table: Float32Array, std: number, seed: number): number[] {
  return Array.from(source, (v, i) => {
    const z = NORMAL_QUANTILES[noiseQuantileIndex(seed, i)]!;
    return Math.fround(table[v]! + Math.fround(std * z));
  });
}

/** Tables with what the rounding and clamping must get right: NaN, infinities, -0, ties, out of range. */
function awkwardTable(rng: ReturnType<typeof createRng>): Float32Array {
  const special = [Number.NaN, Infinity, -Infinity, -0, 0, 1, -1e-9, 255 / 255, 2, -3];
  return Float32Array.from({ length: 256 }, (_, v) => {
    if (v < special.length) return special[v]!;
    // x * 255 exactly halfway between two integers (a tie), or anywhere in [-0.5, 1.5).
    return v % 3 === 0 ? (Math.floor(v / 3) + 0.5) / 255 : rng.nextFloat() * 2 - 0.5;
  });
}

describe('the intensity kernel with noise', () => {
  it('matches the definition four voxels at a time and one at a time, for any count, in float32 and in bytes', () => {
    for (let trial = 0; trial < 40; trial++) {
      const rng = createRng([trial, 91]);
      const count = trial < 12 ? trial : rng.nextInt(13, 3000);
      const source = Uint8Array.from({ length: count }, () => rng.nextInt(0, 255));
      const table = awkwardTable(rng);
      // std 0 keeps the table's ties exact; otherwise any std, the seed any uint32.
      const std = trial % 4 === 0 ? 0 : Math.fround(rng.nextFloat() * 0.5);
      const seed = rng.nextInt(0, 0xffff_ffff);
      const expected = noisyReference(source, table, std, seed);
      const floats = new Float32Array(count);
      noisyFloatsByTable(source, table, std, seed, floats);
      assert.deepEqual(Array.from(floats), expected.map(Math.fround), `floats, trial ${trial}`);
      const bytes = new Uint8Array(count);
      noisyBytesByTable(source, table, std, seed, bytes);
      assert.deepEqual(Array.from(bytes), expected.map(toStoredVoxel), `bytes, trial ${trial}`);
    }
  });
});
