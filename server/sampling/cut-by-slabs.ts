import { copyBytes } from './bulk-bytes.js';
import { rowGatherKernel } from './gather-rows.js';
import type { Shape3, Vec3 } from './types.js';

/**
 * The fast way to cut a crop that lies wholly inside its volume, for rows of at least 16 voxels.
 *
 * The plain way is one typed-array copy per crop row (a view and a `set`), 30 to 120 ns each whatever the
 * row's length (into shared memory V8 copies byte by byte), and the rows of one plane of the crop are spread
 * over the volume at the volume's row stride, so most of them wait on memory as well: about 100 us for the
 * 1,536 rows of a 16x96x96 crop out of a cache of many volumes. Here each crop plane's rows are first copied
 * as one contiguous slab (from the crop's first voxel in that plane to its last: whole volume rows in between)
 * with one native copy, which streams from memory at full speed, into the memory of a small WebAssembly
 * kernel (gather-rows.wat), which moves the plane's rows 16 bytes at a time into the crop; the whole crop
 * then goes to its target with one more native copy. Measured on Node 20 (2-core x86-64), crops 16x96x96
 * out of 64 cached 128x192x192 volumes: about 30 us per crop, against about 55 with the rows moved as
 * Float64 words in JavaScript and about 105 with one copy per row; out of 512x512-wide volumes about 60
 * against 180 per row.
 */

/**
 * A slab reads the volume rows between the crop's rows too: worth it while it is at most this many crop
 * planes (measured: at 5.3, a 16x96x96 crop of a 512x512-wide volume, the slabs take a third of the time of
 * row copies; one row copy costs about as much as a native copy of 1.5 KiB).
 */
const MAX_SLAB_OVER_PLANE = 8;

/** The kernel moves 16 bytes at a time; a shorter row takes the plain way. */
const MIN_ROW_BYTES = 16;

/** Whether `cutBySlabs` can cut a crop of `size` out of volumes of `shape`. */
export function canCutBySlabs(shape: Shape3, size: Shape3): boolean {
  const [, n1, n2] = shape;
  const [s0, s1, s2] = size;
  if (s0 < 1 || s1 < 1 || s2 < MIN_ROW_BYTES || s1 > n1 || s2 > n2) return false;
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
  const planeLength = s1 * s2;
  const cropLength = s0 * planeLength;
  // The kernel's memory: one slab at 0, the crop after it.
  const {
    heap,
    exports: { gatherRows },
  } = rowGatherKernel.reserve(slabLength + cropLength);
  const cropAt = slabLength;
  for (let i = 0; i < s0; i++) {
    const start = ((o0 + i) * n1 + o1) * n2 + o2;
    copyBytes(heap, source.subarray(start, start + slabLength), 0);
    gatherRows(0, n2, s1, s2, cropAt + i * planeLength);
  }
  copyBytes(out, heap.subarray(cropAt, cropAt + cropLength), outOffset);
}

/** Bytes from a crop plane's first voxel to its last in the volume: (s1 - 1) whole volume rows and one crop row. */
function slabBytes(n2: number, s1: number, s2: number): number {
  return (s1 - 1) * n2 + s2;
}
