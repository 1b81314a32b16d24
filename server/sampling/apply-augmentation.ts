import { NORMAL_QUANTILES, noiseQuantileIndex } from './gaussian-noise.js';
import type { AugmentParams, Shape3 } from './types.js';

/**
 * Applies drawn transforms to cut crops (`drawAugmentation` draws them). The order is part of the contract:
 * mirror axes 0, 1, 2 (np.flip), then np.rot90(crop, k, axes=(1, 2)), on image and mask alike; then, on the
 * image only, with x = float32(voxel / 255): x = float32(x ** gamma) (computed in float64), x = x * scale,
 * x = x + shift, x = x + float32(noiseStd * z_i) (z_i: `gaussian-noise.ts`), each a float32 operation. uint8 output is x * 255 in float32,
 * rounded half to even and clamped to 0..255.
 */

/** Whether the crop's voxels move (mirror or rotation). */
export function isSpatial(params: AugmentParams): boolean {
  return params.rotate90 !== 0 || params.flip.some(Boolean);
}

/** Whether the image's values change (gamma, scale, shift or noise). */
export function isIntensity(params: AugmentParams): boolean {
  return (
    params.gamma !== undefined ||
    params.scale !== undefined ||
    params.shift !== undefined ||
    params.noiseStd !== undefined
  );
}

/**
 * Mirrors and rotates the C-ordered crop of `size` at `offset` of `tensor` in place, through `scratch` (at
 * least one crop long). Every output row along axis 2 reads the source along a line with a constant stride.
 */
export function applySpatialAugmentation(
  params: AugmentParams,
  size: Shape3,
  tensor: Uint8Array,
  offset: number,
  scratch: Uint8Array,
): void {
  const [s0, s1, s2] = size;
  const total = s0 * s1 * s2;
  const k = params.rotate90;
  if (k !== 0 && s1 !== s2) {
    throw new RangeError(
      `applySpatialAugmentation: rotating needs crop sizes 1 and 2 equal, got ${size.join('x')}`,
    );
  }
  scratch.set(tensor.subarray(offset, offset + total));
  const [f0, f1, f2] = params.flip;
  const plane = s1 * s2;
  if (k === 0 && !f1 && !f2) {
    // Mirroring axis 0 alone moves whole planes: one native copy each.
    for (let i = 0; i < s0; i++) {
      const from = (f0 ? s0 - 1 - i : i) * plane;
      tensor.set(new Uint8Array(scratch.buffer, scratch.byteOffset + from, plane), offset + i * plane);
    }
    return;
  }
  // Output voxel (i, a, b) reads source (x0, j, kk): the rotation makes (j, kk) linear in b, the mirrors
  // reflect each axis, so every output row reads the source down one line with a constant stride.
  let out = offset;
  for (let i = 0; i < s0; i++) {
    const x0 = f0 ? s0 - 1 - i : i;
    for (let a = 0; a < s1; a++) {
      let j0 = a;
      let jb = 0;
      let k0 = 0;
      let kb = 1;
      if (k === 1) {
        j0 = 0;
        jb = 1;
        k0 = s2 - 1 - a;
        kb = 0;
      } else if (k === 2) {
        j0 = s1 - 1 - a;
        k0 = s2 - 1;
        kb = -1;
      } else if (k === 3) {
        j0 = s1 - 1;
        jb = -1;
        k0 = a;
        kb = 0;
      }
      if (f1) {
        j0 = s1 - 1 - j0;
        jb = -jb;
      }
      if (f2) {
        k0 = s2 - 1 - k0;
        kb = -kb;
      }
      let at = (x0 * s1 + j0) * s2 + k0;
      const step = jb * s2 + kb;
      for (const end = out + s2; out < end; at += step) tensor[out++] = scratch[at]!;
    }
  }
}

/** float32(x) for every stored voxel after gamma, scale and shift: one lookup per voxel. */
function intensityTable(params: AugmentParams): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) {
    let x = Math.fround(v / 255);
    if (params.gamma !== undefined) x = Math.fround(x ** params.gamma);
    if (params.scale !== undefined) x = Math.fround(x * params.scale);
    if (params.shift !== undefined) x = Math.fround(x + params.shift);
    table[v] = x;
  }
  return table;
}

/**
 * Writes the augmented float32 image of one crop: `voxels` (stored values, C order) to `target` as floats.
 * `target` may overlap `voxels` from the front (float i is written after byte i is read, and never reaches a
 * byte still to be read when the bytes sit in the last quarter of the same buffer).
 */
export function writeAugmentedFloat32(params: AugmentParams, voxels: Uint8Array, target: Float32Array): void {
  const table = intensityTable(params);
  const n = voxels.length;
  const std = params.noiseStd;
  if (std === undefined) {
    for (let i = 0; i < n; i++) target[i] = table[voxels[i]!]!;
    return;
  }
  const seed = params.noiseSeed;
  // Imported bindings read in a hot loop cost a lookup each under some loaders: held in locals.
  const quantiles = NORMAL_QUANTILES;
  const quantileIndex = noiseQuantileIndex;
  for (let i = 0; i < n; i++) {
    target[i] = table[voxels[i]!]! + Math.fround(std * quantiles[quantileIndex(seed, i)]!);
  }
}

/**
 * The stored value of a float32 intensity: x * 255 in float32, then rounded half to even and clamped to
 * 0..255 (NaN -> 0), which is exactly how a Uint8ClampedArray stores a number.
 */
export function toStoredVoxel(x: number): number {
  const clamped = new Uint8ClampedArray(1);
  clamped[0] = Math.fround(x * 255);
  return clamped[0]!;
}

/** Augments the intensities of one uint8 crop in place. */
export function augmentUint8InPlace(params: AugmentParams, voxels: Uint8Array): void {
  const table = intensityTable(params);
  const std = params.noiseStd;
  const n = voxels.length;
  // Storing into a Uint8ClampedArray rounds half to even and clamps: the uint8 rule, natively.
  const clamped = new Uint8ClampedArray(voxels.buffer, voxels.byteOffset, n);
  if (std === undefined) {
    const bytes = new Uint8ClampedArray(256);
    for (let v = 0; v < 256; v++) bytes[v] = Math.fround(table[v]! * 255);
    for (let i = 0; i < n; i++) clamped[i] = bytes[voxels[i]!]!;
    return;
  }
  const seed = params.noiseSeed;
  const quantiles = NORMAL_QUANTILES;
  const quantileIndex = noiseQuantileIndex;
  for (let i = 0; i < n; i++) {
    const x = Math.fround(table[voxels[i]!]! + Math.fround(std * quantiles[quantileIndex(seed, i)]!));
    clamped[i] = Math.fround(x * 255);
  }
}
