import { VoxelfeedError } from '../../errors.js';
import type { Shape3 } from '../../sampling/types.js';

/** NRRD kinds of an axis along which the volume extends in space (or time): never a channel. */
const SPATIAL_KINDS: ReadonlySet<string> = new Set(['domain', 'space', 'time']);
/** How teem writes an axis of unknown kind (`???`), and how `unu make -k` spells it (`none`). */
const UNKNOWN_KINDS: ReadonlySet<string> = new Set(['???', 'none']);

const HOW_TO_FIX =
  'mark the channel axis in the kinds field (e.g. "kinds: scalar domain domain domain"; ' +
  'unu axinsert -a 0 -k scalar) or write a 3-D file';

/**
 * The three spatial sizes of an NRRD's `sizes`: a 3-D volume as it is, a 4-D one without its channel axis
 * (`spatialAxes` says which axes are kept).
 */
export function spatialShape(
  sizes: readonly number[],
  kinds: readonly string[] | null,
  source: string,
): Shape3 {
  const [a, b, c] = spatialAxes(sizes, kinds, source);
  return [sizes[a]!, sizes[b]!, sizes[c]!];
}

/**
 * The indices of the three spatial axes of an NRRD's `sizes`: 0, 1, 2 for a 3-D volume, the four axes but the
 * channel axis for a 4-D one (so per-axis fields such as spacings can be read for the same axes). Dropping a
 * size-1 axis leaves the voxels' order unchanged; the question is only which axis it is:
 * - the one axis whose kind is neither spatial (`domain`, `space`, `time`) nor unknown (`scalar`, `stub`,
 *   `list`, `vector`, `RGB-color`...), which must have size 1 (one channel);
 * - with no such kind (no `kinds` field, or only spatial and unknown ones), the one size-1 axis of unknown
 *   kind. Two of them (sizes `1 5 1 3`) give two different volumes, so the file is refused rather than guessed.
 */
export function spatialAxes(
  sizes: readonly number[],
  kinds: readonly string[] | null,
  source: string,
): Shape3 {
  if (sizes.length === 3) return [0, 1, 2];
  const described = `sizes ${sizes.join(' ')}${kinds ? ` with kinds ${kinds.join(' ')}` : ''}`;
  const refuse = (problem: string): never => {
    throw new VoxelfeedError('DATA_LOSS', `${source}: ${described} ${problem}`);
  };
  if (sizes.length !== 4) {
    return refuse(
      'is not a 3-D volume (or 4-D with one axis of size 1); save one channel per file as a 3-D volume',
    );
  }
  const kindOf = (axis: number): string => kinds?.[axis]?.toLowerCase() ?? '???';
  const axes = [0, 1, 2, 3];
  const channels = axes.filter(
    (axis) => !SPATIAL_KINDS.has(kindOf(axis)) && !UNKNOWN_KINDS.has(kindOf(axis)),
  );
  let dropped: number;
  if (channels.length === 1) {
    dropped = channels[0]!;
    if (sizes[dropped] !== 1) {
      return refuse(
        `has ${sizes[dropped]} channels along axis ${dropped} (kind ${kinds?.[dropped]}); voxelfeed serves one channel per file: save each channel as a 3-D volume`,
      );
    }
  } else if (channels.length > 1) {
    return refuse(
      `marks ${channels.length} axes (${channels.join(', ')}) as non-spatial; a 4-D volume may have one channel axis, of size 1: fix the kinds field or write a 3-D file`,
    );
  } else {
    const candidates = axes.filter((axis) => sizes[axis] === 1 && UNKNOWN_KINDS.has(kindOf(axis)));
    if (candidates.length !== 1) {
      const ones = axes.filter((axis) => sizes[axis] === 1).length;
      if (ones === 0) {
        return refuse(
          'has no axis of size 1: it is a multi-channel or 4-D volume; save one channel per file as a 3-D volume',
        );
      }
      return refuse(
        candidates.length === 0
          ? `has no channel axis: every axis of size 1 is spatial; ${HOW_TO_FIX}`
          : `has ${candidates.length} axes of size 1 (${candidates.join(', ')}) and nothing tells which is the channel; ${HOW_TO_FIX}`,
      );
    }
    dropped = candidates[0]!;
  }
  const rest = axes.filter((axis) => axis !== dropped);
  return [rest[0]!, rest[1]!, rest[2]!];
}
