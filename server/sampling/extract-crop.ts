import { fillBytes } from './bulk-bytes.js';
import { canCutBoxBySlabs, canCutBySlabs, cutBoxBySlabs, cutBySlabs } from './cut-by-slabs.js';
import type { Shape3, Vec3, Volume } from './types.js';

/**
 * A mask's box crossing a crop in at least this many rows is cut by slabs (cut-by-slabs.ts): each row copied
 * into shared memory on its own costs 30 to 120 ns, and the slabs cost one more copy of the crop.
 */
const MIN_BOX_ROWS_FOR_SLABS = 32;

/** Where and how to cut: the crop's corner in volume voxels (may lie outside), its size, the image pad value. */
export interface CropCut {
  readonly origin: Vec3;
  readonly size: Shape3;
  readonly padValue: number;
  /** true: the mask keeps the volume's label values; otherwise every label above 0 becomes 1. */
  readonly keepLabels?: boolean;
}

/** Where the crop goes: C-ordered tensors of whole crops, written from voxel `offset` on. */
export interface CropOutput {
  readonly image: Uint8Array;
  /** null: no mask wanted. */
  readonly mask: Uint8Array | null;
  readonly offset: number;
  /**
   * Where the image crop starts in `image` when not at `offset`: a float32 crop's bytes are cut into a
   * crop-long scratch (at 0) before they are widened into their slot, while its mask goes to its slot.
   */
  readonly imageOffset?: number;
}

/**
 * What a padded run writes: `padValue` into the image, 0 into the mask (when cut in the same loop). Runs are
 * given at the mask's positions; the image's lie `imageShift` further on.
 */
interface PadTarget {
  readonly image: Uint8Array;
  readonly mask: Uint8Array | null;
  readonly padValue: number;
  readonly imageShift: number;
}

/**
 * Cuts one crop of `size` at `origin` out of a C-ordered volume into `out.image` (and `out.mask` when given)
 * at `out.offset` (the image at `out.imageOffset` when given), itself in C order:
 * out[((i*s1) + j)*s2 + k] = voxel(o0 + i, o1 + j, o2 + k). Voxels outside the volume are `padValue` in the
 * image and 0 in the mask. Writes exactly s0*s1*s2 bytes per output and nothing outside them.
 *
 * A crop wholly inside the volume that `canCutBySlabs` accepts is cut by slabs (`cut-by-slabs.ts`).
 * Otherwise rows along axis 2 are contiguous in both layouts, so the inside of every row is one view + `set`
 * (a memmove) and every padded run (whole planes, whole rows, row ends) is one `fill`.
 */
export function extractCrop(volume: Volume, cut: CropCut, out: CropOutput): void {
  cutCrop(volume, cut, out);
  // Volumes keep their labels; a mask with labels above 1 is made 0/1 here unless labels are wanted.
  const labels = volume.labelIndex?.labels;
  const maxLabel = labels === undefined || labels.length === 0 ? 0 : labels[labels.length - 1]!;
  if (out.mask !== null && maxLabel > 1 && cut.keepLabels !== true) {
    const mask = out.mask;
    const end = out.offset + cut.size[0] * cut.size[1] * cut.size[2];
    for (let i = out.offset; i < end; i++) if (mask[i]! > 1) mask[i] = 1;
  }
}

function cutCrop(volume: Volume, cut: CropCut, out: CropOutput): void {
  const { origin, size, padValue } = cut;
  const { image: outImage, mask: outMask, offset: outOffset } = out;
  const imageOffset = out.imageOffset ?? outOffset;
  const imageShift = imageOffset - outOffset;
  const [n0, n1, n2] = volume.shape;
  const [o0, o1, o2] = origin;
  const [s0, s1, s2] = size;
  const total = s0 * s1 * s2;
  // Row views index the underlying buffer directly, so a volume shorter than its shape must not get this far.
  const voxels = n0 * n1 * n2;
  if (volume.image.length !== voxels || volume.mask.length !== voxels) {
    throw new RangeError(
      `extractCrop: a ${n0}x${n1}x${n2} volume needs ${voxels} voxels, got image ${volume.image.length}, mask ${volume.mask.length}`,
    );
  }
  checkOutput(outImage, imageOffset, total, 'image');
  if (outMask !== null) checkOutput(outMask, outOffset, total, 'mask');
  // With the mask's non-zero box known, the mask is zeros plus the few rows that cross the box; the loop
  // below then cuts the image alone.
  const boxed = outMask !== null && volume.maskBox !== undefined;
  if (boxed) cutMaskWithinBox(volume, cut, outMask, outOffset);
  const loopMask = boxed ? null : outMask;
  const pad: PadTarget = { image: outImage, mask: loopMask, padValue, imageShift };
  // Row views are built with the constructor rather than `subarray`, which looks up the species
  // constructor on every call: about 1.5x more crops per second on Node 20 for 96-voxel rows.
  const imageBuffer = volume.image.buffer;
  const imageBase = volume.image.byteOffset;
  const maskBuffer = volume.mask.buffer;
  const maskBase = volume.mask.byteOffset;

  // The crop indices [a, b) on each axis that fall inside the volume; a === b when none do.
  const a0 = clamp(-o0, 0, s0);
  const b0 = clamp(n0 - o0, a0, s0);
  const a1 = clamp(-o1, 0, s1);
  const b1 = clamp(n1 - o1, a1, s1);
  const a2 = clamp(-o2, 0, s2);
  const b2 = clamp(n2 - o2, a2, s2);

  if (a0 === b0 || a1 === b1 || a2 === b2) {
    fillBytes(outImage, padValue, imageOffset, imageOffset + total);
    if (loopMask !== null) fillBytes(loopMask, 0, outOffset, outOffset + total);
    return;
  }

  const inside = a0 === 0 && b0 === s0 && a1 === 0 && b1 === s1 && a2 === 0 && b2 === s2;
  if (inside && canCutBySlabs(volume.shape, size)) {
    cutBySlabs(volume.image, volume.shape, origin, size, outImage, imageOffset);
    if (loopMask !== null) cutBySlabs(volume.mask, volume.shape, origin, size, loopMask, outOffset);
    return;
  }

  const plane = s1 * s2;
  const run = b2 - a2;
  // Padded planes before and after the inside ones.
  padRange(pad, outOffset, outOffset + a0 * plane);
  padRange(pad, outOffset + b0 * plane, outOffset + total);
  for (let i = a0; i < b0; i++) {
    const planeStart = outOffset + i * plane;
    padRange(pad, planeStart, planeStart + a1 * s2);
    padRange(pad, planeStart + b1 * s2, planeStart + plane);
    const srcPlane = ((o0 + i) * n1 + o1) * n2 + o2;
    for (let j = a1; j < b1; j++) {
      const dst = planeStart + j * s2;
      const src = srcPlane + j * n2 + a2;
      if (a2 > 0) padRange(pad, dst, dst + a2);
      outImage.set(new Uint8Array(imageBuffer, imageBase + src, run), dst + a2 + imageShift);
      if (loopMask !== null) loopMask.set(new Uint8Array(maskBuffer, maskBase + src, run), dst + a2);
      if (b2 < s2) padRange(pad, dst + b2, dst + s2);
    }
  }
}

function cutMaskWithinBox(volume: Volume, cut: CropCut, outMask: Uint8Array, outOffset: number): void {
  const [, n1, n2] = volume.shape;
  const [o0, o1, o2] = cut.origin;
  const [s0, s1, s2] = cut.size;
  const total = s0 * s1 * s2;
  const box = volume.maskBox;
  if (box === null || box === undefined) {
    fillBytes(outMask, 0, outOffset, outOffset + total);
    return;
  }
  const a0 = clamp(box.lo[0] - o0, 0, s0);
  const b0 = clamp(box.hi[0] - o0, a0, s0);
  const a1 = clamp(box.lo[1] - o1, 0, s1);
  const b1 = clamp(box.hi[1] - o1, a1, s1);
  const a2 = clamp(box.lo[2] - o2, 0, s2);
  const b2 = clamp(box.hi[2] - o2, a2, s2);
  const region = { lo: [a0, a1, a2], hi: [b0, b1, b2] } as const;
  if ((b0 - a0) * (b1 - a1) >= MIN_BOX_ROWS_FOR_SLABS && canCutBoxBySlabs(volume.shape, region)) {
    cutBoxBySlabs(volume.mask, volume.shape, cut.origin, cut.size, region, outMask, outOffset);
    return;
  }
  fillBytes(outMask, 0, outOffset, outOffset + total);
  if (a0 === b0 || a1 === b1 || a2 === b2) return;
  const maskBuffer = volume.mask.buffer;
  const maskBase = volume.mask.byteOffset;
  const run = b2 - a2;
  for (let i = a0; i < b0; i++) {
    const srcPlane = ((o0 + i) * n1 + o1) * n2 + o2;
    const dstPlane = outOffset + i * s1 * s2;
    for (let j = a1; j < b1; j++) {
      outMask.set(new Uint8Array(maskBuffer, maskBase + srcPlane + j * n2 + a2, run), dstPlane + j * s2 + a2);
    }
  }
}

function clamp(x: number, min: number, max: number): number {
  return Math.min(Math.max(x, min), max);
}

function padRange(pad: PadTarget, from: number, to: number): void {
  if (to <= from) return;
  fillBytes(pad.image, pad.padValue, from + pad.imageShift, to + pad.imageShift);
  if (pad.mask !== null) fillBytes(pad.mask, 0, from, to);
}

function checkOutput(out: Uint8Array, offset: number, total: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + total > out.length) {
    throw new RangeError(
      `extractCrop: ${total} ${what} voxels at offset ${offset} do not fit an output of ${out.length}`,
    );
  }
}
