/**
 * Crop origins along one axis, for each crop mode. All values are voxel indices; an origin may be negative
 * or run past the volume's edge (the crop is padded). Pure arithmetic, no draws: plan-sample draws within
 * the ranges given here.
 */

/** Nearest voxel to a coordinate, halves rounded up (floor(x + 0.5)), as for centres and nodule extents. */
export function roundVoxel(x: number): number {
  return Math.floor(x + 0.5);
}

/** The origin that puts the centre voxel round(c) at crop index floor(size / 2) exactly. */
export function centerOrigin(center: number, size: number): number {
  return roundVoxel(center) - Math.floor(size / 2);
}

/** The voxels a nodule spans on one axis, both inclusive: round(c - d/2) .. round(c + d/2). */
export function noduleExtent(center: number, diameter: number): [lo: number, hi: number] {
  return [roundVoxel(center - diameter / 2), roundVoxel(center + diameter / 2)];
}

/**
 * Origins that keep the whole nodule extent [lo, hi] inside a crop of `size`: [hi - size + 1, lo], both
 * inclusive; null when the nodule is larger than the crop on this axis (the caller centres that axis).
 */
export function jitterRange(
  center: number,
  diameter: number,
  size: number,
): [min: number, max: number] | null {
  const [lo, hi] = noduleExtent(center, diameter);
  const min = hi - size + 1;
  return min <= lo ? [min, lo] : null;
}

/**
 * Origins of a negative crop on an axis of `extent` voxels: inside the volume when the crop fits,
 * and covering the whole axis (padded on both sides) when the crop is larger than the volume.
 */
export function negativeRange(extent: number, size: number): [min: number, max: number] {
  const slack = extent - size;
  return [Math.min(0, slack), Math.max(0, slack)];
}
