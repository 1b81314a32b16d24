import { NORMAL_QUANTILES, noiseQuantileIndex } from './gaussian-noise.js';
import type { AugmentParams, Shape3 } from './types.js';

/**
 * Applies drawn transforms to cut crops (`drawAugmentation` draws them). The order is part of the contract:
 * mirror axes 0, 1, 2 (np.flip), then np.rot90(crop, k, axes=(1, 2)), on image and mask alike; then, on the
 * image only, with x = float32(voxel / 255): x = float32(x ** gamma) (computed in float64), x = x * scale,
 * x = x + shift, x = x + float32(noiseStd * z_i) (z_i: `gaussian-noise.ts`, i the voxel's index in the
 * transformed crop), each a float32 operation. uint8 output is x * 255 in float32, rounded half to even and
 * clamped to 0..255. Each output is written in one pass that reads the cut crop in the transformed order.
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
 * The source row of every output row, as pairs in one array: output voxel (i, a, b) reads source voxel
 * `start + b * step` of the cut crop, with (start, step) at [2r, 2r + 1] for output row r = i * s1 + a. The
 * rotation makes the source's (j, k) linear in b, the mirrors reflect each axis.
 */
function sourceRows(params: AugmentParams, size: Shape3): Int32Array {
  const [s0, s1, s2] = size;
  const k = params.rotate90;
  if (k !== 0 && s1 !== s2) {
    throw new RangeError(`quarter turns need crop sizes 1 and 2 equal, got ${size.join('x')}`);
  }
  const [f0, f1, f2] = params.flip;
  const rows = new Int32Array(2 * s0 * s1);
  let r = 0;
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
      rows[r++] = (x0 * s1 + j0) * s2 + k0;
      rows[r++] = jb * s2 + kb;
    }
  }
  return rows;
}

/**
 * Mirrors and rotates the C-ordered crop of `size` at `offset` of `tensor` in place (a mask), through
 * `scratch` (at least one crop long).
 */
export function applySpatialAugmentation(
  params: AugmentParams,
  size: Shape3,
  tensor: Uint8Array,
  offset: number,
  scratch: Uint8Array,
): void {
  const [s0, s1, s2] = size;
  const n = s0 * s1 * s2;
  scratch.set(tensor.subarray(offset, offset + n));
  const out = new Uint8Array(tensor.buffer, tensor.byteOffset + offset, n);
  gatherBytes(sourceRows(params, size), s2, scratch, IDENTITY_BYTES, out);
}

/** float32(x) for every stored voxel after gamma, scale and shift (v / 255 when none applies). */
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
 * Writes the augmented float32 image of one crop from its cut voxels (stored values, C order), mirrored,
 * rotated and with its intensities transformed in one pass. `voxels` is first copied into `scratch` (at least
 * one crop long), so `target` may overlap it (the float tensor widened in place over the cut bytes).
 */
export function writeAugmentedFloat32(
  params: AugmentParams,
  size: Shape3,
  voxels: Uint8Array,
  target: Float32Array,
  scratch: Uint8Array,
): void {
  scratch.set(voxels);
  const rows = sourceRows(params, size);
  const table = intensityTable(params);
  if (params.noiseStd === undefined) {
    gatherFloats(rows, size[2], scratch, table, target);
  } else {
    const noise = { std: params.noiseStd, seed: params.noiseSeed, scale: 1 };
    gatherNoisyFloats(rows, size[2], scratch, table, noise, target);
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

/**
 * Augments one uint8 crop of `size` at `offset` of `tensor` in place, through `scratch`: mirrored, rotated and
 * with its intensities transformed in one pass. With noise the float32 crop goes through `floats` (one crop
 * long; allocated when absent: a batch passes one buffer for all its crops).
 */
export function augmentUint8Crop(
  params: AugmentParams,
  size: Shape3,
  tensor: Uint8Array,
  offset: number,
  scratch: Uint8Array,
  floatScratch?: Float32Array,
): void {
  const [s0, s1, s2] = size;
  const n = s0 * s1 * s2;
  scratch.set(tensor.subarray(offset, offset + n));
  const rows = sourceRows(params, size);
  const table = intensityTable(params);
  // A plain Uint8Array view: stores into a Buffer (its subclass) take a slower path in V8.
  const voxels = new Uint8Array(tensor.buffer, tensor.byteOffset + offset, n);
  if (params.noiseStd === undefined) {
    let bytes = IDENTITY_BYTES;
    if (isIntensity(params)) {
      bytes = new Uint8Array(256);
      new Uint8ClampedArray(bytes.buffer).set(table.map((x) => Math.fround(x * 255)));
    }
    gatherBytes(rows, s2, scratch, bytes, voxels);
    return;
  }
  // With noise every voxel takes its own value: the float32 crop first, then its rounding.
  // With noise every voxel takes its own value: float32(x * 255) first, then a native store into a clamped
  // view, which rounds half to even and clamps to 0..255 (NaN: 0).
  const floats = floatScratch ?? new Float32Array(n);
  const noise = { std: params.noiseStd, seed: params.noiseSeed, scale: 255 };
  gatherNoisyFloats(rows, s2, scratch, table, noise, floats);
  new Uint8ClampedArray(voxels.buffer, voxels.byteOffset, n).set(floats.subarray(0, n));
}

// The loops below are functions of their own, each optimised by V8 with its own type feedback: within one
// large function, code compiled during the first loop meets the later ones without feedback and is thrown
// away on every call.

const IDENTITY_BYTES = Uint8Array.from({ length: 256 }, (_, v) => v);

/** out[i] = bytes[source[at]] along the source rows. */
function gatherBytes(
  rows: Int32Array,
  rowLength: number,
  source: Uint8Array,
  bytes: Uint8Array,
  out: Uint8Array,
): void {
  let o = 0;
  for (let r = 0; r < rows.length; r += 2) {
    const step = rows[r + 1]!;
    for (let b = 0, at = rows[r]!; b < rowLength; b++, at += step) out[o++] = bytes[source[at]!]!;
  }
}

/** out[i] = table[source[at]] along the source rows. */
function gatherFloats(
  rows: Int32Array,
  rowLength: number,
  source: Uint8Array,
  table: Float32Array,
  out: Float32Array,
): void {
  let o = 0;
  for (let r = 0; r < rows.length; r += 2) {
    const step = rows[r + 1]!;
    for (let b = 0, at = rows[r]!; b < rowLength; b++, at += step) out[o++] = table[source[at]!]!;
  }
}

/**
 * out[i] = float32(x * scale) with x = float32(table[source[at]] + float32(std * z_i)) along the source rows
 * (scale 1: x itself, exactly; 255: the value uint8 output rounds).
 */
function gatherNoisyFloats(
  rows: Int32Array,
  rowLength: number,
  source: Uint8Array,
  table: Float32Array,
  noise: { readonly std: number; readonly seed: number; readonly scale: number },
  out: Float32Array,
): void {
  const { std, seed, scale } = noise;
  const quantiles = NORMAL_QUANTILES;
  const quantileIndex = noiseQuantileIndex;
  let o = 0;
  for (let r = 0; r < rows.length; r += 2) {
    const step = rows[r + 1]!;
    for (let b = 0, at = rows[r]!; b < rowLength; b++, at += step, o++) {
      out[o] =
        Math.fround(table[source[at]!]! + Math.fround(std * quantiles[quantileIndex(seed, o)]!)) * scale;
    }
  }
}
