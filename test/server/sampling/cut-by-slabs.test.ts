import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canCutBySlabs, cutBySlabs } from '../../../server/sampling/cut-by-slabs.js';
import type { Shape3, Vec3 } from '../../../server/sampling/types.js';

const MEMORIES = {
  plain: (length: number) => new Uint8Array(length),
  shared: (length: number) => new Uint8Array(new SharedArrayBuffer(length)),
};

/** The definition: out[((i*s1) + j)*s2 + k] = source(o0 + i, o1 + j, o2 + k), one voxel at a time. */
function referenceCut(source: Uint8Array, shape: Shape3, origin: Vec3, size: Shape3): Uint8Array {
  const [, n1, n2] = shape;
  const [s0, s1, s2] = size;
  const out = new Uint8Array(s0 * s1 * s2);
  for (let i = 0; i < s0; i++) {
    for (let j = 0; j < s1; j++) {
      for (let k = 0; k < s2; k++) {
        out[(i * s1 + j) * s2 + k] = source[((origin[0] + i) * n1 + origin[1] + j) * n2 + origin[2] + k]!;
      }
    }
  }
  return out;
}

/** Bytes that differ from their neighbours along every axis, so a row or plane one off shows. */
function patterned(bytes: Uint8Array, salt: number): Uint8Array {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + (i >> 8) * 7 + salt) & 255;
  return bytes;
}

describe('cutBySlabs', () => {
  for (const [sourceMemory, makeSource] of Object.entries(MEMORIES)) {
    for (const [outMemory, makeOut] of Object.entries(MEMORIES)) {
      it(`cuts what the definition cuts, from ${sourceMemory} into ${outMemory} memory, at any offset inside`, () => {
        const cases: [Shape3, Vec3, Shape3][] = [
          [
            [6, 10, 16],
            [0, 0, 0],
            [6, 10, 16],
          ],
          [
            [6, 10, 16],
            [1, 2, 0],
            [4, 5, 16],
          ],
          [
            [9, 33, 40],
            [2, 7, 5],
            [3, 20, 32],
          ],
          [
            [5, 12, 24],
            [4, 11, 5],
            [1, 1, 16],
          ],
          // Rows that are not a multiple of 16 bytes end with an overlapping 16-byte copy.
          [
            [4, 9, 37],
            [1, 2, 3],
            [3, 7, 17],
          ],
          [
            [3, 40, 150],
            [0, 5, 11],
            [3, 33, 101],
          ],
          // A wide volume: slabs of 5.3 crop planes.
          [
            [3, 40, 512],
            [1, 3, 200],
            [2, 20, 96],
          ],
          [
            [20, 48, 48],
            [3, 9, 17],
            [16, 24, 24],
          ],
        ];
        for (const [shape, origin, size] of cases) {
          assert.ok(canCutBySlabs(shape, size), `${shape} / ${size}`);
          const source = patterned(makeSource(shape[0] * shape[1] * shape[2]), origin[2]);
          const length = size[0] * size[1] * size[2];
          for (const offset of [0, 5, 64]) {
            const out = makeOut(offset + length + 7).fill(0xa5);
            cutBySlabs(source, shape, origin, size, out, offset);
            const expected = new Uint8Array(out.length).fill(0xa5);
            expected.set(referenceCut(source, shape, origin, size), offset);
            assert.deepEqual(
              new Uint8Array(out),
              expected,
              `${shape} at ${origin}, ${size}, offset ${offset}`,
            );
          }
        }
      });
    }
  }

  it('cuts from a view at its own offsets, not its buffer’s', () => {
    const shape: Shape3 = [4, 8, 24];
    const whole = patterned(MEMORIES.shared(3 + 4 * 8 * 24), 9);
    const view = whole.subarray(3);
    const out = new Uint8Array(2 * 4 * 16);
    cutBySlabs(view, shape, [1, 2, 8], [2, 4, 16], out, 0);
    assert.deepEqual(out, referenceCut(view, shape, [1, 2, 8], [2, 4, 16]));
  });

  it('moves every byte value and every 8-byte pattern of a NaN payload bit for bit', () => {
    // Bytes move as bytes, never as numbers: 8-byte words that read as NaNs with any payload (signalling
    // ones included) come out as they went in.
    const shape: Shape3 = [2, 64, 64];
    const source = new Uint8Array(new SharedArrayBuffer(2 * 64 * 64));
    const words = new DataView(source.buffer);
    for (let w = 0; w < source.length / 8; w++) {
      const kind = w % 4;
      if (kind === 0) words.setFloat64(w * 8, Number.NaN, true);
      else if (kind === 1)
        words.setBigUint64(w * 8, 0x7ff0_0000_0000_0001n + BigInt(w), true); // signalling NaN
      else if (kind === 2)
        words.setBigUint64(w * 8, 0xfff8_dead_beef_0000n + BigInt(w), true); // negative quiet NaN
      else for (let b = 0; b < 8; b++) source[w * 8 + b] = (w * 8 + b) & 255; // every byte value
    }
    const out = new Uint8Array(2 * 64 * 64);
    cutBySlabs(source, shape, [0, 0, 0], shape, out, 0);
    assert.deepEqual(out, new Uint8Array(source));
    const part = new Uint8Array(2 * 32 * 48);
    cutBySlabs(source, shape, [0, 16, 8], [2, 32, 48], part, 0);
    assert.deepEqual(part, referenceCut(source, shape, [0, 16, 8], [2, 32, 48]));
  });

  it('gives the same crops after a larger crop has grown the kernel’s memory', () => {
    const small: Shape3 = [4, 16, 16];
    const large: Shape3 = [40, 128, 128]; // 655,360 voxels: the kernel's memory grows past 10 pages
    const smallSource = patterned(new Uint8Array(4 * 16 * 16), 1);
    const largeSource = patterned(new Uint8Array(40 * 128 * 128), 2);
    const before = new Uint8Array(2 * 8 * 16);
    cutBySlabs(smallSource, small, [1, 3, 0], [2, 8, 16], before, 0);
    const whole = new Uint8Array(40 * 128 * 128);
    cutBySlabs(largeSource, large, [0, 0, 0], large, whole, 0);
    assert.deepEqual(whole, largeSource);
    const after = new Uint8Array(2 * 8 * 16);
    cutBySlabs(smallSource, small, [1, 3, 0], [2, 8, 16], after, 0);
    assert.deepEqual(after, before);
    assert.deepEqual(after, referenceCut(smallSource, small, [1, 3, 0], [2, 8, 16]));
  });
});

describe('canCutBySlabs', () => {
  it('takes rows of 16 voxels or more, with slabs of at most 8 crop planes', () => {
    assert.equal(canCutBySlabs([128, 192, 192], [16, 96, 96]), true); // slab 95 rows of 192 + 96: 1.99 planes
    assert.equal(canCutBySlabs([64, 128, 128], [32, 64, 64]), true);
    assert.equal(canCutBySlabs([64, 512, 512], [16, 96, 96]), true); // slab 5.3 crop planes
    assert.equal(canCutBySlabs([64, 512, 512], [16, 128, 128]), true); // slab 3.99 crop planes
    assert.equal(canCutBySlabs([64, 128, 124], [16, 96, 90]), true);
    assert.equal(canCutBySlabs([64, 512, 512], [16, 48, 48]), false); // slab 10.6 crop planes
  });

  it('refuses rows shorter than 16 voxels', () => {
    assert.equal(canCutBySlabs([64, 128, 128], [16, 96, 15]), false);
    assert.equal(canCutBySlabs([64, 16, 16], [4, 8, 8]), false);
  });

  it('refuses crops wider or taller than the volume and empty crops', () => {
    assert.equal(canCutBySlabs([64, 64, 64], [16, 96, 64]), false);
    assert.equal(canCutBySlabs([64, 64, 64], [16, 64, 72]), false);
    assert.equal(canCutBySlabs([64, 64, 64], [0, 64, 64]), false);
  });
});
