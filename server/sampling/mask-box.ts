import type { MaskBox, Shape3 } from './types.js';

/**
 * Finds the box around every non-zero voxel of a C-ordered mask (axis 2 fastest), or null if there is none.
 * Masks are almost all zeros, so the scan skips zero runs eight bytes at a time where the buffer is aligned.
 */
export function findMaskBox(mask: Uint8Array, shape: Shape3): MaskBox | null {
  const [n0, n1, n2] = shape;
  const lo = [n0, n1, n2];
  const hi = [0, 0, 0];
  const include = (index: number) => {
    const x2 = index % n2;
    const row = (index - x2) / n2;
    const x1 = row % n1;
    const x0 = (row - x1) / n1;
    if (x0 < lo[0]!) lo[0] = x0;
    if (x1 < lo[1]!) lo[1] = x1;
    if (x2 < lo[2]!) lo[2] = x2;
    if (x0 >= hi[0]!) hi[0] = x0 + 1;
    if (x1 >= hi[1]!) hi[1] = x1 + 1;
    if (x2 >= hi[2]!) hi[2] = x2 + 1;
  };
  const alignedStart = Math.min(mask.length, (8 - (mask.byteOffset % 8)) % 8);
  for (let i = 0; i < alignedStart; i++) if (mask[i] !== 0) include(i);
  const words = Math.floor((mask.length - alignedStart) / 8);
  const wide = new Float64Array(mask.buffer, mask.byteOffset + alignedStart, words);
  for (let w = 0; w < words; w++) {
    // Read as a double, a word with any non-zero byte is non-zero, except -0 (the sign bit alone, in the first
    // or last byte depending on endianness), so those two bytes are checked as well.
    const base = alignedStart + w * 8;
    if (wide[w] !== 0 || mask[base] !== 0 || mask[base + 7] !== 0) {
      for (let b = 0; b < 8; b++) if (mask[base + b] !== 0) include(base + b);
    }
  }
  for (let i = alignedStart + words * 8; i < mask.length; i++) if (mask[i] !== 0) include(i);
  if (hi[0] === 0) return null;
  return { lo: [lo[0]!, lo[1]!, lo[2]!], hi: [hi[0]!, hi[1]!, hi[2]!] };
}
