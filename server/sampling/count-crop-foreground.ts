import type { Shape3, Vec3, Volume } from './types.js';

/**
 * The number of voxels of the crop of `size` at `origin` whose mask value is non-zero. Voxels outside the
 * volume are background, as the padded mask is. Only the rows where the crop meets the mask's non-zero box
 * are read (none when it misses the box, the case of most crops); without a box, every row of the crop inside
 * the volume is.
 *
 * The count reads the volume, not a cut mask, so it costs the same whether or not the mask is sent.
 */
export function countCropForeground(volume: Volume, origin: Vec3, size: Shape3): number {
  const box = volume.maskBox;
  if (box === null) return 0;
  const [n0, n1, n2] = volume.shape;
  const lo = box?.lo ?? [0, 0, 0];
  const hi = box?.hi ?? [n0, n1, n2];
  // Volume coordinates [from, to) on each axis inside the crop, the volume and the box.
  const from0 = Math.max(origin[0], lo[0]);
  const to0 = Math.min(origin[0] + size[0], hi[0]);
  const from1 = Math.max(origin[1], lo[1]);
  const to1 = Math.min(origin[1] + size[1], hi[1]);
  const from2 = Math.max(origin[2], lo[2]);
  const to2 = Math.min(origin[2] + size[2], hi[2]);
  if (from0 >= to0 || from1 >= to1 || from2 >= to2) return 0;
  const mask = volume.mask;
  // A box around several nodules is mostly zeros: rows are read eight bytes at a time where the buffer is
  // aligned for it, and only non-zero words byte by byte.
  const lead = Math.min(mask.length, (8 - (mask.byteOffset % 8)) % 8);
  const words = Math.floor((mask.length - lead) / 8);
  // No view without a whole word: a mask shorter than its lead would put one off the 8-byte boundary.
  const wide = words === 0 ? NO_WORDS : new Float64Array(mask.buffer, mask.byteOffset + lead, words);
  let count = 0;
  for (let x0 = from0; x0 < to0; x0++) {
    for (let x1 = from1; x1 < to1; x1++) {
      const row = (x0 * n1 + x1) * n2;
      const end = row + to2;
      let at = row + from2;
      // Bytes up to the first aligned word, the words that end before `end`, then the bytes left.
      const aligned = Math.min(end, at + ((8 - ((at - lead) % 8)) % 8));
      for (; at < aligned; at++) if (mask[at] !== 0) count++;
      for (; at + 8 <= end; at += 8) {
        // A word with any non-zero byte reads as a non-zero double, except -0 (the sign bit alone, in the
        // first or last byte depending on endianness): those two bytes are checked as well.
        if (wide[(at - lead) / 8] !== 0 || mask[at] !== 0 || mask[at + 7] !== 0) {
          for (let b = at; b < at + 8; b++) if (mask[b] !== 0) count++;
        }
      }
      for (; at < end; at++) if (mask[at] !== 0) count++;
    }
  }
  return count;
}

const NO_WORDS = new Float64Array(0);
