import type { Shape3, Vec3 } from '../../sampling/types.js';
import type { NrrdHeader } from './nrrd-header.js';

/**
 * The size of a voxel along each spatial axis (`axes`, from `spatialAxes`), in the header's space units
 * (millimetres for CT): the `spacings` field, else the length of each `space directions` vector. Null when
 * an axis has neither, or a value is not a positive number: the box check then cannot try millimetres.
 */
export function voxelSpacing(
  header: Pick<NrrdHeader, 'spacings' | 'spaceDirections'>,
  axes: Shape3,
): Vec3 | null {
  const spacing = axes.map((axis) => {
    const listed = header.spacings?.[axis];
    if (listed !== undefined && Number.isFinite(listed) && listed > 0) return listed;
    const direction = header.spaceDirections?.[axis];
    if (direction === null || direction === undefined) return null;
    const length = Math.hypot(...direction);
    return Number.isFinite(length) && length > 0 ? length : null;
  });
  const [s0, s1, s2] = spacing;
  return s0 == null || s1 == null || s2 == null ? null : [s0, s1, s2];
}
