import type { SampleInfoView } from '@voxelfeed/client';

/** A voxel of the crop: slice (axis 0), row (axis 1), column (axis 2). */
export interface CropVoxel {
  readonly z: number;
  readonly row: number;
  readonly col: number;
}

/**
 * The crop voxel that holds the nodule's centre (the centre in volume voxels minus the crop's origin,
 * rounded), or null for a sample without a nodule or whose nodule's centre lies outside the crop.
 */
export function noduleInCrop(
  info: Pick<SampleInfoView, 'nodule' | 'noduleCenter' | 'origin'>,
  crop: readonly [number, number, number],
): CropVoxel | null {
  if (info.nodule < 0 || info.noduleCenter.length !== 3) return null;
  const at = [0, 1, 2].map((axis) => Math.round(info.noduleCenter[axis]! - info.origin[axis]!));
  if (at.some((value, axis) => value < 0 || value >= crop[axis]!)) return null;
  const [z, row, col] = at as [number, number, number];
  return { z, row, col };
}
