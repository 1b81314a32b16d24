import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VoxelfeedError } from '../../../server/errors.js';
import { encodeNpy } from '../../../server/synth/npy-writer.js';

const run = promisify(execFile);

const LOAD = `
import json, sys
import numpy as np
a = np.load(sys.argv[1], allow_pickle=False)
print(json.dumps({"shape": list(a.shape), "dtype": a.dtype.str, "values": a.tolist()}))
`;

/** numpy's own reading of a file: shape, dtype and values. */
async function loadWithNumpy(file: string): Promise<{ shape: number[]; dtype: string; values: number[][] }> {
  const { stdout } = await run('python3', ['-c', LOAD, file]);
  return JSON.parse(stdout);
}

describe('encodeNpy', () => {
  let dir = '';
  before(async () => {
    try {
      await run('python3', ['-c', 'import numpy']);
    } catch (error) {
      assert.fail(
        `python3 with numpy is needed to check .npy files; apt-get install python3-numpy (${error})`,
      );
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-npy-writer-'));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('writes float32 (N, 4) rows that numpy loads exactly', async () => {
    // Multiples of 1/8 and small integers: exact in float32, so numpy must give them back unchanged.
    const rows = [
      [12.5, 40.125, 77, 6.25],
      [0, 191.875, 3.5, 30],
      [-1.5, 2, 1024, 3],
    ];
    const file = path.join(dir, 'f4.npy');
    await writeFile(file, encodeNpy(Float32Array.from(rows.flat()), [3, 4]));
    const loaded = await loadWithNumpy(file);
    assert.deepEqual(loaded, { shape: [3, 4], dtype: '<f4', values: rows });
  });

  it('writes float64 rows with every bit of precision', async () => {
    const rows = [[0.1, 1 / 3, Math.PI, 1e-300]];
    const file = path.join(dir, 'f8.npy');
    await writeFile(file, encodeNpy(Float64Array.from(rows.flat()), [1, 4]));
    assert.deepEqual(await loadWithNumpy(file), { shape: [1, 4], dtype: '<f8', values: rows });
  });

  it('writes an empty (0, 4) array for a series without nodules', async () => {
    const file = path.join(dir, 'empty.npy');
    await writeFile(file, encodeNpy(new Float32Array(0), [0, 4]));
    assert.deepEqual(await loadWithNumpy(file), { shape: [0, 4], dtype: '<f4', values: [] });
  });

  for (const { name, dtype, shape } of [
    { name: 'float32 (2, 4)', dtype: 'float32', shape: [2, 4] },
    { name: 'float32 (0, 4)', dtype: 'float32', shape: [0, 4] },
    { name: 'float64 1-D (5,)', dtype: 'float64', shape: [5] },
  ]) {
    it(`writes the same bytes as numpy.save for ${name}`, async () => {
      const count = shape.reduce((a, b) => a * b, 1);
      const values = Array.from({ length: count }, (_, i) => i * 0.5 - 1);
      const file = path.join(dir, `numpy-${dtype}-${shape.join('x')}.npy`);
      const script = `import sys, numpy as np
np.save(sys.argv[1], np.array(${JSON.stringify(values)}, dtype=np.${dtype}).reshape(${JSON.stringify(shape)}))`;
      await run('python3', ['-c', script, file]);
      const typed = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
      assert.deepEqual(encodeNpy(typed, shape), await readFile(file));
    });
  }

  it('pads the header so the data starts at a multiple of 64 bytes after a newline', () => {
    const bytes = encodeNpy(new Float32Array(8), [2, 4]);
    const headerLength = bytes.readUInt16LE(8);
    assert.equal((10 + headerLength) % 64, 0);
    assert.equal(bytes[10 + headerLength - 1], 0x0a);
    assert.equal(bytes.length, 10 + headerLength + 8 * 4);
  });

  it('rejects a shape that does not match the number of values', () => {
    assert.throws(
      () => encodeNpy(new Float32Array(6), [2, 4]),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'INVALID_ARGUMENT' &&
        error.message.includes('(2, 4) needs 8 values but 6 were given'),
    );
  });
});
