import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeFloat32LE } from '../../../server/sampling/float-tensor.js';

/** The little-endian float32 values in `bytes`. */
function floatsOf(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

describe('writeFloat32LE', () => {
  it('writes every byte value v as the little-endian float32 of v / 255', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, v) => v);
    const target = new Uint8Array(1024);
    writeFloat32LE(bytes, target);
    assert.deepEqual(
      floatsOf(target),
      Array.from({ length: 256 }, (_, v) => Math.fround(v / 255)),
    );
    assert.deepEqual([floatsOf(target)[0], floatsOf(target)[255]], [0, 1]);
  });

  it('writes the same bytes into a target that does not start on a 4-byte boundary', () => {
    const bytes = Uint8Array.from([0, 1, 51, 128, 254, 255]);
    const aligned = new Uint8Array(24);
    writeFloat32LE(bytes, aligned);
    const backing = new Uint8Array(1 + 24 + 3).fill(0xee);
    const unaligned = backing.subarray(1, 25);
    writeFloat32LE(bytes, unaligned);
    assert.deepEqual(unaligned, aligned);
    assert.deepEqual([backing[0], backing[25]], [0xee, 0xee], 'nothing written outside the target');
  });

  it('keeps the voxel order of a subarray input and leaves the rest of a larger target alone', () => {
    const backing = Uint8Array.from([9, 255, 0, 51, 9]);
    const target = new Uint8Array(16).fill(0xee);
    writeFloat32LE(backing.subarray(1, 4), target);
    assert.deepEqual(floatsOf(target.subarray(0, 12)), [1, 0, Math.fround(0.2)]);
    assert.deepEqual([...target.subarray(12)], [0xee, 0xee, 0xee, 0xee]);
  });

  it('widens in place over several chunks, the bytes in the last quarter of the target, in shared memory', () => {
    // 200,003 voxels: three whole chunks of the kernel and an odd tail, each chunk's floats written over
    // bytes already read.
    const n = 200_003;
    const source = Uint8Array.from({ length: n }, (_, i) => (i * 37 + (i >> 9)) & 255);
    const target = new Uint8Array(new SharedArrayBuffer(4 * n));
    target.set(source, 3 * n);
    writeFloat32LE(target.subarray(3 * n), target);
    const floats = floatsOf(target);
    const wrong = floats.findIndex((value, i) => value !== Math.fround(source[i]! / 255));
    assert.equal(wrong, -1, `voxel ${wrong}`);
  });

  it('refuses a target too small for the voxels, naming both sizes', () => {
    assert.throws(
      () => writeFloat32LE(new Uint8Array(3), new Uint8Array(11)),
      new RangeError('writeFloat32LE: 3 voxels need 12 bytes, the target has 11'),
    );
  });

  it('writes nothing for an empty input', () => {
    const target = new Uint8Array(4).fill(7);
    writeFloat32LE(new Uint8Array(0), target);
    assert.deepEqual([...target], [7, 7, 7, 7]);
  });
});
