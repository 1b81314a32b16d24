import { VoxelfeedError } from '../errors.js';
import type { Shape3 } from '../sampling/types.js';

/**
 * The three spatial sizes of an NRRD's `sizes`: a 3-D volume as it is, a 4-D one with exactly one axis of
 * size 1 (a channel axis) without that axis. Anything else is not a single-channel volume.
 */
export function spatialShape(sizes: readonly number[], source: string): Shape3 {
  if (sizes.length === 3) return [sizes[0]!, sizes[1]!, sizes[2]!];
  if (sizes.length === 4) {
    const ones = sizes.filter((size) => size === 1).length;
    if (ones >= 1) {
      const at = sizes.indexOf(1);
      const rest = sizes.filter((_, i) => i !== at);
      return [rest[0]!, rest[1]!, rest[2]!];
    }
  }
  throw new VoxelfeedError(
    'DATA_LOSS',
    `${source}: sizes ${sizes.join(' ')} is not a 3-D volume (or 4-D with one axis of size 1); save one channel per file`,
  );
}
