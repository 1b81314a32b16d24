import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toFloat32LE } from '../../../server/sampling/float-tensor.js';

describe('toFloat32LE', () => {
  it('turns every byte value v into the little-endian float32 of v / 255', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, v) => v);
    const out = toFloat32LE(bytes);
    assert.equal(out.length, 1024);
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let v = 0; v < 256; v++) assert.equal(view.getFloat32(v * 4, true), Math.fround(v / 255));
    assert.equal(view.getFloat32(0, true), 0);
    assert.equal(view.getFloat32(255 * 4, true), 1);
  });

  it('keeps the voxel order of a subarray input', () => {
    const backing = Uint8Array.from([9, 255, 0, 51, 9]);
    const out = toFloat32LE(backing.subarray(1, 4));
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    assert.deepEqual(
      [0, 1, 2].map((i) => view.getFloat32(i * 4, true)),
      [1, 0, Math.fround(0.2)],
    );
  });

  it('gives an empty output for an empty input', () => {
    assert.equal(toFloat32LE(new Uint8Array(0)).length, 0);
  });
});
