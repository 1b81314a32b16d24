import type { Shape3, Vec3, Volume } from './types.js';

/**
 * Whether the crop of `size` at `origin` holds a non-zero mask voxel. Padding is background, so only the part
 * inside the volume counts; with the mask's box known (`Volume.maskBox`) only the part inside the box is read,
 * and a crop that misses the box is answered without reading any voxel.
 */
export function cropHasForeground(volume: Volume, origin: Vec3, size: Shape3): boolean {
  const [n0, n1, n2] = volume.shape;
  const box = volume.maskBox;
  if (box === null) return false;
  const lo = box === undefined ? [0, 0, 0] : box.lo;
  const hi = box === undefined ? [n0, n1, n2] : box.hi;
  const from = [0, 0, 0];
  const to = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    from[a] = Math.max(origin[a]!, lo[a]!);
    to[a] = Math.min(origin[a]! + size[a]!, hi[a]!);
    if (from[a]! >= to[a]!) return false;
  }
  const mask = volume.mask;
  for (let x0 = from[0]!; x0 < to[0]!; x0++) {
    for (let x1 = from[1]!; x1 < to[1]!; x1++) {
      const row = (x0 * n1 + x1) * n2;
      for (let x2 = row + from[2]!, end = row + to[2]!; x2 < end; x2++) if (mask[x2] !== 0) return true;
    }
  }
  return false;
}
