import { copyBytes } from './bulk-bytes.js';
import {
  mapBytesByTable,
  mapFloatsByTable,
  noisyBytesByTable,
  noisyFloatsByTable,
} from './intensity-kernel.js';
import { mirroredAndTurned } from './mirror-and-turn.js';
import type { AugmentParams, Shape3 } from './types.js';

/**
 * Applies drawn transforms to cut crops (`drawAugmentation` draws them). The order is part of the contract:
 * mirror axes 0, 1, 2 (np.flip), then np.rot90(crop, k, axes=(1, 2)), on image and mask alike; then, on the
 * image only, with x = float32(voxel / 255): x = float32(x ** gamma) (computed in float64), x = x * scale,
 * x = x + shift, x = x + float32(noiseStd * z_i) (z_i: `gaussian-noise.ts`, i the voxel's index in the
 * transformed crop), each a float32 operation. uint8 output is x * 255 in float32, rounded half to even and
 * clamped to 0..255. Mirrors and turns are a few whole-crop passes (`mirror-and-turn.ts`); the intensities are
 * then applied in the one pass that writes the output, by a WebAssembly kernel (`intensity.wat`) that performs
 * the same float32 operations.
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
 * The crop `voxels` (of `size`) mirrored and turned as `params` say: a view of the mirror-and-turn kernel's
 * memory, valid until the next crop is moved; `voxels` themselves when nothing moves. Every kernel here copies
 * its input into its own memory before it writes, so a crop can be transformed back into where it was cut.
 */
function moved(params: AugmentParams, size: Shape3, voxels: Uint8Array): Uint8Array {
  const n = size[0] * size[1] * size[2];
  if (voxels.length !== n) {
    throw new RangeError(`a ${size.join('x')} crop has ${n} voxels, got ${voxels.length}`);
  }
  return isSpatial(params) ? mirroredAndTurned(params.flip, params.rotate90, size, voxels) : voxels;
}

/** Mirrors and rotates the C-ordered crop of `size` at `offset` of `tensor` in place (a mask). */
export function applySpatialAugmentation(
  params: AugmentParams,
  size: Shape3,
  tensor: Uint8Array,
  offset: number,
): void {
  if (!isSpatial(params)) return;
  const n = size[0] * size[1] * size[2];
  copyBytes(tensor, moved(params, size, tensor.subarray(offset, offset + n)), offset);
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
 * Writes the augmented float32 image of one crop from its cut voxels (stored values, C order; not overlapping
 * `target`): mirrored and rotated first (in the kernel's memory), then with its intensities transformed as it
 * is widened.
 */
export function writeAugmentedFloat32(
  params: AugmentParams,
  size: Shape3,
  voxels: Uint8Array,
  target: Float32Array,
): void {
  if (target.length !== voxels.length) {
    throw new RangeError(
      `writeAugmentedFloat32: ${voxels.length} voxels, but room for ${target.length} floats`,
    );
  }
  const source = moved(params, size, voxels);
  const table = intensityTable(params);
  if (params.noiseStd === undefined) mapFloatsByTable(source, table, target);
  else noisyFloatsByTable(source, table, params.noiseStd, params.noiseSeed, target);
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
 * Augments one uint8 crop of `size` at `offset` of `tensor` in place: mirrored and rotated, then with its
 * intensities transformed as it is written back.
 */
export function augmentUint8Crop(
  params: AugmentParams,
  size: Shape3,
  tensor: Uint8Array,
  offset: number,
): void {
  const n = size[0] * size[1] * size[2];
  const crop = tensor.subarray(offset, offset + n);
  const source = moved(params, size, crop);
  if (!isIntensity(params)) {
    if (source !== crop) copyBytes(tensor, source, offset);
    return;
  }
  const table = intensityTable(params);
  if (params.noiseStd === undefined) {
    // Without noise every stored value has one result: a table of 256 bytes, rounded as below.
    const bytes = new Uint8Array(256);
    new Uint8ClampedArray(bytes.buffer).set(table.map((x) => Math.fround(x * 255)));
    mapBytesByTable(source, bytes, crop);
    return;
  }
  // With noise every voxel takes its own value: float32(x * 255), rounded half to even and clamped to 0..255
  // (NaN: 0) as a clamped array stores it.
  noisyBytesByTable(source, table, params.noiseStd, params.noiseSeed, crop);
}
