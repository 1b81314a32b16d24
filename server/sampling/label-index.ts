import type { LabelIndex, MaskBox, Shape3, Vec3, Volume } from './types.js';

/** Scans the mask within its box (all of it when the box is unknown) once. */
export function indexLabels(mask: Uint8Array, shape: Shape3, box: MaskBox | null | undefined): LabelIndex {
  const [n0, n1, n2] = shape;
  const counts = new Map<number, Uint32Array>();
  if (box !== null) {
    const lo = box?.lo ?? [0, 0, 0];
    const hi = box?.hi ?? shape;
    for (let x0 = lo[0]; x0 < hi[0]; x0++) {
      for (let x1 = lo[1]; x1 < hi[1]; x1++) {
        const row = (x0 * n1 + x1) * n2;
        for (let at = row + lo[2], end = row + hi[2]; at < end; at++) {
          const label = mask[at]!;
          if (label === 0) continue;
          let perPlane = counts.get(label);
          if (perPlane === undefined) {
            perPlane = new Uint32Array(n0 + 1);
            counts.set(label, perPlane);
          }
          perPlane[x0 + 1]! += 1;
        }
      }
    }
  }
  for (const perPlane of counts.values()) {
    for (let x0 = 1; x0 <= n0; x0++) perPlane[x0]! += perPlane[x0 - 1]!;
  }
  return { labels: [...counts.keys()].sort((a, b) => a - b), cumulative: counts };
}

/** The label index of a volume: the one computed at load, or computed now (volumes built by hand, tests). */
export function labelIndexOf(volume: Volume): LabelIndex {
  return volume.labelIndex ?? indexLabels(volume.mask, volume.shape, volume.maskBox);
}

/** Voxels of `label` in the volume (label 0: background, every voxel no other label holds). */
export function labelVoxelCount(volume: Volume, index: LabelIndex, label: number): number {
  const [n0, n1, n2] = volume.shape;
  if (label !== 0) return index.cumulative.get(label)?.[n0] ?? 0;
  let labelled = 0;
  for (const perPlane of index.cumulative.values()) labelled += perPlane[n0]!;
  return n0 * n1 * n2 - labelled;
}

/**
 * The `rank`-th voxel (0-based, C order) holding `label`: the plane by binary search over the running counts,
 * then a scan of that plane. `rank` must be below `labelVoxelCount`.
 */
export function nthLabelVoxel(volume: Volume, index: LabelIndex, label: number, rank: number): Vec3 {
  const [n0, n1, n2] = volume.shape;
  const plane = n1 * n2;
  const before = (x0: number): number => {
    if (label !== 0) return index.cumulative.get(label)![x0]!;
    let labelled = 0;
    for (const perPlane of index.cumulative.values()) labelled += perPlane[x0]!;
    return x0 * plane - labelled;
  };
  // The last plane x0 with before(x0) <= rank.
  let lo = 0;
  let hi = n0 - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (before(mid) <= rank) lo = mid;
    else hi = mid - 1;
  }
  let left = rank - before(lo);
  const mask = volume.mask;
  for (let at = lo * plane, end = at + plane; at < end; at++) {
    if (mask[at] === label && left-- === 0) {
      const within = at - lo * plane;
      return [lo, Math.floor(within / n2), within % n2];
    }
  }
  throw new RangeError(`nthLabelVoxel: label ${label} has no voxel of rank ${rank}`);
}
