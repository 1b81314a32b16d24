import type { Shape3 } from './types.js';

/**
 * Mirrors and quarter turns of a C-ordered uint8 crop, as a few whole-array passes rather than one gather per
 * voxel: numpy defines np.rot90(m, 1, axes=(1, 2)) as transpose(flip(m, 2)), k = 2 as flip(m, (1, 2)) and
 * k = 3 as flip(transpose(m), 2), and a transpose of axes 1 and 2 turns a mirror of one of them into a mirror of
 * the other. So mirrors followed by a turn are always one optional transpose followed by mirrors, and mirrors
 * are copies: all three axes at once are one `reverse`, axis 0 is plane copies, axis 1 row copies (a loop).
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
 * Mirrors `crop` (s0*s1*s2 voxels) along each axis in `flip`, then turns it `rotate90` quarter turns in the
 * plane of axes 1 and 2, as np.rot90(np.flip(crop, axes), k, axes=(1, 2)). `crop` and `spare` are buffers of
 * one crop each; the result is in one of them, which is returned, and the other is overwritten.
 */
export function mirrorAndTurn(
  flip: readonly [boolean, boolean, boolean],
  rotate90: number,
  size: Shape3,
  crop: Uint8Array,
  spare: Uint8Array,
): Uint8Array {
  const [s0, s1, s2] = size;
  const n = s0 * s1 * s2;
  if (crop.length !== n || spare.length !== n) {
    throw new RangeError(`mirrorAndTurn: a ${size.join('x')} crop needs buffers of ${n} voxels`);
  }
  const { transpose, mirrors } = turnAsTransposeAndMirrors(flip, rotate90);
  let current = crop;
  let other = spare;
  if (transpose) {
    if (s1 !== s2) {
      throw new RangeError(`quarter turns need crop sizes 1 and 2 equal, got ${size.join('x')}`);
    }
    transposePlanes(current, other, s0, s1);
    [current, other] = [other, current];
  }
  let [m0, m1, m2] = mirrors;
  if (m2) {
    // Reversing the whole crop mirrors all three axes; axes 0 and 1 are mirrored back below where they should not be.
    current.reverse();
    m0 = !m0;
    m1 = !m1;
  }
  if (m1) {
    mirrorRows(current, other, s0, s1, s2, m0);
    return other;
  }
  if (m0) {
    mirrorPlanes(current, other, s0, s1 * s2);
    return other;
  }
  return current;
}

/** out(i, a, b) = source(i, b, a) for s0 square planes of side s; 4x4 blocks of 32-bit words where aligned. */
function transposePlanes(source: Uint8Array, out: Uint8Array, s0: number, s: number): void {
  if (LITTLE_ENDIAN && s % 4 === 0 && source.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    transposeWordBlocks(
      new Uint32Array(source.buffer, source.byteOffset, source.length / 4),
      new Uint32Array(out.buffer, out.byteOffset, out.length / 4),
      s0,
      s,
    );
    return;
  }
  const plane = s * s;
  for (let i = 0; i < s0; i++) {
    const base = i * plane;
    let o = base;
    for (let a = 0; a < s; a++) {
      for (let b = 0, at = base + a; b < s; b++, at += s) out[o++] = source[at]!;
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The word form of `transposePlanes` on a little-endian host (byte j of a word is the one at address 4w + j):
 * each 4x4 block of bytes is four words read from four source rows and four words written to four output rows,
 * about twice as fast as moving bytes one at a time.
 */
function transposeWordBlocks(source: Uint32Array, out: Uint32Array, s0: number, s: number): void {
  const words = s / 4;
  const planeWords = s * words;
  for (let i = 0; i < s0; i++) {
    const base = i * planeWords;
    for (let blockRow = 0; blockRow < s; blockRow += 4) {
      for (let blockColumn = 0; blockColumn < words; blockColumn++) {
        const from = base + blockRow * words + blockColumn;
        const w0 = source[from]!;
        const w1 = source[from + words]!;
        const w2 = source[from + 2 * words]!;
        const w3 = source[from + 3 * words]!;
        const to = base + blockColumn * 4 * words + blockRow / 4;
        out[to] = (w0 & 255) | ((w1 & 255) << 8) | ((w2 & 255) << 16) | ((w3 & 255) << 24);
        out[to + words] =
          ((w0 >>> 8) & 255) | (((w1 >>> 8) & 255) << 8) | (((w2 >>> 8) & 255) << 16) | ((w3 >>> 8) << 24);
        out[to + 2 * words] =
          ((w0 >>> 16) & 255) |
          (((w1 >>> 16) & 255) << 8) |
          (((w2 >>> 16) & 255) << 16) |
          ((w3 >>> 16) << 24);
        out[to + 3 * words] = (w0 >>> 24) | ((w1 >>> 24) << 8) | ((w2 >>> 24) << 16) | ((w3 >>> 24) << 24);
      }
    }
  }
}

/**
 * out = source mirrored along axis 1, and along axis 0 too when `alsoAxis0`. Rows are copied in place of a
 * native copy per row: a row view for each (s0*s1 of them, 1,536 for a 16x96x96 crop, about 96 bytes each)
 * was most of the garbage an augmented batch left for the collector. Words where both crops are aligned.
 */
function mirrorRows(
  source: Uint8Array,
  out: Uint8Array,
  s0: number,
  s1: number,
  s2: number,
  alsoAxis0: boolean,
): void {
  if (s2 % 4 === 0 && source.byteOffset % 4 === 0 && out.byteOffset % 4 === 0) {
    copyReversedWordRows(
      new Uint32Array(source.buffer, source.byteOffset, source.length / 4),
      new Uint32Array(out.buffer, out.byteOffset, out.length / 4),
      s0,
      s1,
      s2 / 4,
      alsoAxis0,
    );
    return;
  }
  const plane = s1 * s2;
  for (let i = 0; i < s0; i++) {
    const from = (alsoAxis0 ? s0 - 1 - i : i) * plane;
    let to = i * plane;
    for (let a = s1 - 1; a >= 0; a--) {
      for (let at = from + a * s2, end = at + s2; at < end; at++) out[to++] = source[at]!;
    }
  }
}

/** `mirrorRows` on words: rows of `words` words, four at a time while at least four are left. */
function copyReversedWordRows(
  source: Uint32Array,
  out: Uint32Array,
  s0: number,
  s1: number,
  words: number,
  alsoAxis0: boolean,
): void {
  const plane = s1 * words;
  const quads = words - (words % 4);
  for (let i = 0; i < s0; i++) {
    const from = (alsoAxis0 ? s0 - 1 - i : i) * plane;
    let to = i * plane;
    for (let a = s1 - 1; a >= 0; a--) {
      const start = from + a * words;
      let at = start;
      for (const end = start + quads; at < end; at += 4, to += 4) {
        out[to] = source[at]!;
        out[to + 1] = source[at + 1]!;
        out[to + 2] = source[at + 2]!;
        out[to + 3] = source[at + 3]!;
      }
      for (const end = start + words; at < end; at++) out[to++] = source[at]!;
    }
  }
}

/** out = source mirrored along axis 0: one native copy per plane. */
function mirrorPlanes(source: Uint8Array, out: Uint8Array, s0: number, plane: number): void {
  for (let i = 0; i < s0; i++) {
    out.set(new Uint8Array(source.buffer, source.byteOffset + (s0 - 1 - i) * plane, plane), i * plane);
  }
}
