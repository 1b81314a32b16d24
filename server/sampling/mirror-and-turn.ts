import { copyBytes } from './bulk-bytes.js';
import { mirrorTurnKernel } from './mirror-turn.js';
import type { Shape3 } from './types.js';

/**
 * Mirrors and quarter turns of a C-ordered uint8 crop, as a few whole-crop passes rather than one gather per
 * voxel: numpy defines np.rot90(m, 1, axes=(1, 2)) as transpose(flip(m, 2)), k = 2 as flip(m, (1, 2)) and
 * k = 3 as flip(transpose(m), 2), and a transpose of axes 1 and 2 turns a mirror of one of them into a mirror of
 * the other. So mirrors followed by a turn are always one optional transpose followed by mirrors, and mirrors
 * are copies: all three axes at once are one reversal, axis 0 plane copies, axis 1 row copies. The passes run
 * in a WebAssembly kernel (mirror-turn.wat): the transpose as 16x16 blocks of 128-bit lanes, the reversal 16
 * bytes at a time, the copies as memory.copy.
 */

/** The mirrors and the transpose that give `flip` followed by `rotate90` quarter turns. */
export function turnAsTransposeAndMirrors(
  flip: readonly [boolean, boolean, boolean],
  rotate90: number,
): { readonly transpose: boolean; readonly mirrors: readonly [boolean, boolean, boolean] } {
  const [f0, f1, f2] = flip;
  switch (rotate90) {
    case 0:
      return { transpose: false, mirrors: [f0, f1, f2] };
    case 1: // transpose(flip(flip_F(m), 2)): the mirrors of F with axis 2 toggled, moved across the transpose.
      return { transpose: true, mirrors: [f0, !f2, f1] };
    case 2:
      return { transpose: false, mirrors: [f0, !f1, !f2] };
    case 3: // flip(transpose(flip_F(m)), 2): F moved across the transpose, then axis 2 toggled.
      return { transpose: true, mirrors: [f0, f2, !f1] };
    default:
      throw new RangeError(`rotate90 must be 0, 1, 2 or 3, got ${rotate90}`);
  }
}

/**
 * `voxels` (a crop of `size`) mirrored along each axis in `flip`, then turned `rotate90` quarter turns in the
 * plane of axes 1 and 2, as np.rot90(np.flip(crop, axes), k, axes=(1, 2)): a view of the kernel's memory,
 * valid until the kernel's next call (this function's, or a load's transpose).
 */
export function mirroredAndTurned(
  flip: readonly [boolean, boolean, boolean],
  rotate90: number,
  size: Shape3,
  voxels: Uint8Array,
): Uint8Array {
  const [s0, s1, s2] = size;
  const n = s0 * s1 * s2;
  if (voxels.length !== n) {
    throw new RangeError(
      `mirroredAndTurned: a ${size.join('x')} crop needs ${n} voxels, got ${voxels.length}`,
    );
  }
  const { transpose, mirrors } = turnAsTransposeAndMirrors(flip, rotate90);
  if (transpose && s1 !== s2) {
    throw new RangeError(`quarter turns need crop sizes 1 and 2 equal, got ${size.join('x')}`);
  }
  // The kernel's memory: the crop at 0 and one after it, the passes moving it between the two.
  const { heap, exports } = mirrorTurnKernel.reserve(2 * n);
  copyBytes(heap, voxels, 0);
  let current = 0;
  let other = n;
  if (transpose) {
    exports.transposePlanes(current, other, s0, s1);
    [current, other] = [other, current];
  }
  let [m0, m1, m2] = mirrors;
  if (m2) {
    // Reversing the whole crop mirrors all three axes; axes 0 and 1 are mirrored back below where they should not be.
    exports.reverse(current, n);
    m0 = !m0;
    m1 = !m1;
  }
  if (m1) {
    exports.mirrorRows(current, other, s0, s1, s2, m0 ? 1 : 0);
    current = other;
  } else if (m0) {
    exports.mirrorPlanes(current, other, s0, s1 * s2);
    current = other;
  }
  return heap.subarray(current, current + n);
}
