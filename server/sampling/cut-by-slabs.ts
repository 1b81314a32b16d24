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
 *
 * A mask is mostly zeros: only the rows that cross its volume's nonzero box are cut (`cutBoxBySlabs`), the
 * same way, into a crop zeroed in the kernel's memory.
 */

/**
 * A slab reads the volume rows between the crop's rows too: worth it while it is at most this many crop
 * planes (measured: at 5.3, a 16x96x96 crop of a 512x512-wide volume, the slabs take a third of the time of
 * row copies; one row copy costs about as much as a native copy of 1.5 KiB).
 */
const MAX_SLAB_OVER_PLANE = 8;

/** The kernel moves 16 bytes at a time; a shorter image row takes the plain way. */
const MIN_ROW_BYTES = 16;

/** A part of a crop: crop-relative voxels [lo, hi) on each axis. */
export interface CropRegion {
  readonly lo: Vec3;
  readonly hi: Vec3;
}

/** Whether `cutBySlabs` can cut a crop of `size` out of volumes of `shape`. */
export function canCutBySlabs(shape: Shape3, size: Shape3): boolean {
  const [, n1, n2] = shape;
  const [s0, s1, s2] = size;
  if (s0 < 1 || s1 < 1 || s2 < MIN_ROW_BYTES || s1 > n1 || s2 > n2) return false;
  return slabBytes(n2, s1, s2) <= MAX_SLAB_OVER_PLANE * s1 * s2;
}

/** Whether `cutBoxBySlabs` reads few enough bytes between the rows of `region` in volumes of `shape`. */
export function canCutBoxBySlabs(shape: Shape3, region: CropRegion): boolean {
  const rows = region.hi[1] - region.lo[1];
  const rowBytes = region.hi[2] - region.lo[2];
  if (region.hi[0] <= region.lo[0] || rows < 1 || rowBytes < 1) return false;
  return slabBytes(shape[2], rows, rowBytes) <= MAX_SLAB_OVER_PLANE * rows * rowBytes;
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
  cutBoxBySlabs(source, shape, origin, size, { lo: [0, 0, 0], hi: size }, out, outOffset);
}

/**
 * As `cutBySlabs` inside `region` of the crop (which lies inside the volume; the caller checks that, and
 * `canCutBoxBySlabs`), and 0 in the rest of the crop.
 */
export function cutBoxBySlabs(
  source: Uint8Array,
  shape: Shape3,
  origin: Vec3,
  size: Shape3,
  region: CropRegion,
  out: Uint8Array,
  outOffset: number,
): void {
  const [, n1, n2] = shape;
  const [o0, o1, o2] = origin;
  const [s0, s1, s2] = size;
  const [a0, a1, a2] = region.lo;
  const [b0, b1, b2] = region.hi;
  const rows = b1 - a1;
  const rowBytes = b2 - a2;
  const slabLength = slabBytes(n2, rows, rowBytes);
  const planeLength = s1 * s2;
  const cropLength = s0 * planeLength;
  // The kernel's memory: one slab at 0, the crop after it.
  const {
    heap,
    exports: { gatherRows },
  } = rowGatherKernel.reserve(slabLength + cropLength);
  const cropAt = slabLength;
  const whole = rows === s1 && rowBytes === s2 && b0 - a0 === s0;
  // The kernel's memory is not shared, so its own fill runs at memory speed.
  if (!whole) heap.fill(0, cropAt, cropAt + cropLength);
  for (let i = a0; i < b0; i++) {
    const start = ((o0 + i) * n1 + o1 + a1) * n2 + o2 + a2;
    copyBytes(heap, source.subarray(start, start + slabLength), 0);
    gatherRows(0, n2, rows, rowBytes, cropAt + i * planeLength + a1 * s2 + a2, s2);
  }
  copyBytes(out, heap.subarray(cropAt, cropAt + cropLength), outOffset);
}

/** Bytes from a region's first voxel in a plane to its last: (rows - 1) whole volume rows and one region row. */
function slabBytes(n2: number, rows: number, rowBytes: number): number {
  return (rows - 1) * n2 + rowBytes;
}
