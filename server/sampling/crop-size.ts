import { VoxelfeedError } from '../errors.js';
import type { Shape3 } from './types.js';

/**
 * Checks a requested crop size: exactly three positive integers (s0, s1, s2) in NRRD axis order, and at most
 * `maxVoxels` voxels per sample (the server's memory bound). Every problem is reported at once.
 */
export function validateCropSize(size: readonly number[], maxVoxels: number): Shape3 {
  if (size.length !== 3) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `crop_size must have 3 values (s0, s1, s2), got ${size.length}; e.g. crop_size 16, 96, 96`,
    );
  }
  const problems: string[] = [];
  size.forEach((value, k) => {
    if (!Number.isSafeInteger(value) || value < 1) {
      problems.push(`crop_size[${k}] is ${value}; each value must be a positive integer`);
    }
  });
  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
  const [s0, s1, s2] = size as [number, number, number];
  // Exact even when the product passes 2^53 (uint32 sizes from the wire can).
  const voxels = BigInt(s0) * BigInt(s1) * BigInt(s2);
  if (voxels > BigInt(maxVoxels)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `crop ${s0}x${s1}x${s2} = ${voxels} voxels exceeds the server's limit of ${maxVoxels} voxels per sample (serve --max-crop-voxels); lower crop_size`,
    );
  }
  return [s0, s1, s2];
}
