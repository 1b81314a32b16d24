import { copyBytes } from './bulk-bytes.js';
import type { Shape3, Vec3 } from './types.js';

/**
 * The fast way to cut a crop that lies wholly inside its volume, for rows of a multiple of 8 voxels.
 *
 * The plain way is one typed-array copy per crop row (a view and a `set`), about 30 ns each whatever the row's
 * length, and the rows of one plane of the crop are spread over the volume at the volume's row stride, so
 * most of them wait on memory as well: about 90 us for the 1,536 rows of a 16x96x96 crop out of a cache of
 * many volumes. Here each crop plane's rows are first copied as one contiguous slab (from the crop's first
 * voxel in that plane to its last: whole volume rows in between) with one native copy, which streams from
 * memory at full speed, into a plain scratch buffer whose rows then all start 8-byte aligned; then each row
 * moves as Float64 words (12 for a 96-voxel row) into a crop-sized plain buffer, and the whole crop goes to
 * its target with one more native copy. Measured on Node 20 (2-core x86-64), 64 cached 128x192x192 volumes:
 * about 1.5x to 2x fewer microseconds per crop than row copies.
 *
 * Float64 words only move bytes: V8 copies them between Float64Arrays bit for bit, NaN payloads included
 * (test/server/sampling/cut-by-slabs.test.ts checks every byte pattern, so an engine that canonicalised NaNs
 * would fail it rather than change crops).
 */

/** A slab reads the volume rows between the crop's rows too: worth it while it is at most this many crop planes. */
const MAX_SLAB_OVER_PLANE = 4;

/** Scratch memory of one thread, grown to the largest crop seen; cutting is synchronous, so one suffices. */
let slabWords = new Float64Array(0);
let cropWords = new Float64Array(0);

/** Whether `cutBySlabs` can cut a crop of `size` out of volumes of `shape`. */
export function canCutBySlabs(shape: Shape3, size: Shape3): boolean {
  const [, n1, n2] = shape;
  const [s0, s1, s2] = size;
  if (n2 % 8 !== 0 || s2 % 8 !== 0 || s0 < 1 || s1 < 1 || s2 < 1 || s1 > n1 || s2 > n2) return false;
  return slabBytes(n2, s1, s2) <= MAX_SLAB_OVER_PLANE * s1 * s2;
}

/**
 * out[outOffset + ((i*s1) + j)*s2 + k] = source(o0 + i, o1 + j, o2 + k) for a crop wholly inside a C-ordered
 * volume of `shape` (the caller checks that, and `canCutBySlabs`).
 */
export function cutBySlabs(
  source: Uint8Array,
  shape: Shape3,
  origin: Vec3,
  size: Shape3,
  out: Uint8Array,
  outOffset: number,
): void {
  const [, n1, n2] = shape;
  const [o0, o1, o2] = origin;
  const [s0, s1, s2] = size;
  const slabLength = slabBytes(n2, s1, s2);
  const cropLength = s0 * s1 * s2;
  if (slabWords.length * 8 < slabLength) slabWords = new Float64Array(Math.ceil(slabLength / 8));
  if (cropWords.length * 8 < cropLength) cropWords = new Float64Array(cropLength / 8);
  const slab = new Uint8Array(slabWords.buffer, 0, slabLength);
  const slabRow = slabWords;
  const cropRow = cropWords;
  const rowWords = s2 / 8;
  const strideWords = n2 / 8;
  let to = 0;
  for (let i = 0; i < s0; i++) {
    const start = ((o0 + i) * n1 + o1) * n2 + o2;
    copyBytes(slab, source.subarray(start, start + slabLength), 0);
    for (let j = 0, from = 0; j < s1; j++, from += strideWords) {
      for (let k = 0; k < rowWords; k++) cropRow[to + k] = slabRow[from + k]!;
      to += rowWords;
    }
  }
  copyBytes(out, new Uint8Array(cropWords.buffer, 0, cropLength), outOffset);
}

/** Bytes from a crop plane's first voxel to its last in the volume: (s1 - 1) whole volume rows and one crop row. */
function slabBytes(n2: number, s1: number, s2: number): number {
  return (s1 - 1) * n2 + s2;
}
