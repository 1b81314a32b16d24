import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseNpy, readBoxesNpy } from '../../../../server/dataset/npy/npy-reader.js';
import { isVoxelfeedError } from '../../../../server/errors.js';

/*
 * Every fixture is written by numpy itself (np.lib.format.write_array / np.save) in one python3 run, which
 * also prints the values it wrote (flattened in C order) as JSON for the tests to compare against.
 */

const run = promisify(execFile);

interface ArraySpec {
  readonly name: string;
  readonly descr: string;
  readonly version: 1 | 2 | 3;
  readonly fortran: boolean;
  readonly shape: readonly number[];
}

interface Written {
  readonly values: (number | boolean)[];
  readonly descr: string;
  readonly fortran: boolean;
  readonly shape: number[];
}

const MULTI_BYTE = ['f4', 'f8', 'i2', 'i4', 'i8', 'u2', 'u4', 'u8'];
const DESCRS = [...MULTI_BYTE.flatMap((t) => [`<${t}`, `>${t}`]), '|i1', '|u1', '|b1'];
const VERSIONS = [1, 2, 3] as const;
const ARRAYS: ArraySpec[] = [
  ...DESCRS.flatMap((descr) =>
    VERSIONS.map((version) => ({
      name: `${descr.slice(1)}-${descr[0] === '>' ? 'be' : 'le'}-v${version}`,
      descr,
      version,
      fortran: false,
      shape: [3, 5],
    })),
  ),
  ...['<f8', '>i2', '|u1', '>u8'].flatMap((descr) =>
    [
      [3, 5],
      [2, 3, 4],
    ].map((shape) => ({
      name: `fortran-${descr.slice(1)}-${shape.length}d`,
      descr,
      version: 2 as const,
      fortran: true,
      shape,
    })),
  ),
];

// Values for each dtype: its extremes (64-bit ones within 2^53, exact in float64) and a spread in between.
const PYTHON = `
import json, os, sys
import numpy as np

out = sys.argv[1]
specs = json.loads(sys.argv[2])
fmt = np.lib.format
result = {}

def values(dt, n):
    dt = np.dtype(dt)
    if dt.kind == 'b':
        return [j % 3 == 0 for j in range(n)]
    if dt.kind == 'f':
        big = 3.0e38 if dt.itemsize == 4 else 1.0e300
        return [-big, big] + [(j - n / 2) * 1.37 + 0.1 for j in range(n - 2)]
    info = np.iinfo(dt)
    lo, hi = max(int(info.min), -(2**53 - 1)), min(int(info.max), 2**53 - 1)
    return [lo, hi] + [lo + (j * 7919 * 104729) % (hi - lo + 1) for j in range(n - 2)]

def save(name, arr, version=(1, 0)):
    with open(os.path.join(out, name + '.npy'), 'wb') as f:
        fmt.write_array(f, arr, version=version)

for s in specs:
    n = int(np.prod(s['shape']))
    arr = np.array(values(s['descr'], n), dtype=np.dtype(s['descr'])).reshape(s['shape'])
    if s['fortran']:
        arr = np.asfortranarray(arr)
    save(s['name'], arr, (s['version'], 0))
    result[s['name']] = {'values': arr.ravel(order='C').tolist(), 'descr': fmt.dtype_to_descr(arr.dtype),
                         'fortran': bool(arr.flags.f_contiguous and not arr.flags.c_contiguous), 'shape': list(arr.shape)}

# '=' (native order) is never written by np.save, which normalises it; write such a header by hand.
with open(os.path.join(out, 'native.npy'), 'wb') as f:
    arr = np.array([1.5, -2.25, 1e-3], dtype='=f8')
    fmt.write_array_header_1_0(f, {'descr': '=f8', 'fortran_order': False, 'shape': (3,)})
    f.write(arr.tobytes())
    result['native'] = {'values': arr.tolist(), 'descr': '=f8', 'fortran': False, 'shape': [3]}

# Boxes, as LUNA16 preprocessing saves them, and broken variants.
boxes = {
    'boxes-n4': np.array([[10.5, 20, 30, 6.25], [1, 2, 3, 0], [7, 8, 9, 12]], dtype=np.float32),
    'boxes-row': np.array([4, 5, 6, 7.5]),
    'boxes-empty': np.zeros((0,)),
    'boxes-empty-n4': np.zeros((0, 4), dtype=np.float32),
    'boxes-n6': np.array([[1, 2, 3, 4, 99, 98], [5, 6, 7, 8, 97, 96]], dtype=np.float64),
    'boxes-int16-be': np.array([[1, 2, 3, 4]], dtype='>i2'),
    'boxes-negative': np.array([[1, 2, 3, 4], [5, 6, 7, -2]]),
    'boxes-nan': np.array([[1, 2, 3, 4], [5, np.nan, 7, 2]]),
    'boxes-n3': np.array([[1, 2, 3], [4, 5, 6]]),
    # Large enough that widening them to float64 would show: 300 KB and 160 KB of values.
    'boxes-wide-n3': np.ones((100000, 3), dtype=np.uint8),
    'boxes-flat': np.arange(20000, dtype=np.float64),
    'boxes-many-n4': np.ones((1000, 4), dtype=np.uint8),
}
for name, arr in boxes.items():
    np.save(os.path.join(out, name + '.npy'), arr)

# Object arrays are pickles. 'evil' creates a marker file when unpickled: prove that numpy's own loader
# does run it (so the fixture is live), then remove the marker for the reader under test.
np.save(os.path.join(out, 'object-dict.npy'), np.array([{'a': 1}], dtype=object), allow_pickle=True)
marker = os.path.join(out, 'unpickled.marker')
class Evil:
    def __reduce__(self):
        return (open, (marker, 'w'))
np.save(os.path.join(out, 'object-evil.npy'), np.array([Evil()], dtype=object), allow_pickle=True)
np.load(os.path.join(out, 'object-evil.npy'), allow_pickle=True)
result['evilIsLive'] = os.path.exists(marker)
os.remove(marker)

np.save(os.path.join(out, 'structured.npy'), np.zeros(2, dtype=[('x', '<f4'), ('y', '<i2')]))
np.save(os.path.join(out, 'strings.npy'), np.array(['ab', 'cd']))
print(json.dumps(result))
`;

let dir = '';
let written: Record<string, Written> = {};
let evilIsLive = false;

function at(name: string): string {
  return path.join(dir, name);
}

async function parseFile(name: string) {
  return parseNpy(await readFile(at(name)), at(name));
}

async function rejectsWithDataLoss(promise: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isVoxelfeedError(error), `expected a VoxelfeedError, got ${String(error)}`);
    assert.equal(error.code, 'DATA_LOSS');
    assert.ok(error.message.includes(file), `message does not name ${file}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** The lengths of the Float64Arrays built while `work` runs (the reader widens values into one). */
async function float64Allocations(work: () => Promise<unknown>): Promise<number[]> {
  const lengths: number[] = [];
  const original = globalThis.Float64Array;
  globalThis.Float64Array = new Proxy(original, {
    construct(target, args: unknown[]) {
      if (typeof args[0] === 'number') lengths.push(args[0]);
      return Reflect.construct(target, args) as object;
    },
  });
  try {
    await work().catch(() => undefined);
  } finally {
    globalThis.Float64Array = original;
  }
  return lengths;
}

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'voxelfeed-npy-'));
  let stdout: string;
  try {
    ({ stdout } = await run('python3', ['-c', PYTHON, dir, JSON.stringify(ARRAYS)], { maxBuffer: 16 << 20 }));
  } catch (error) {
    throw new Error(
      `python3 with numpy writes these fixtures; install it (apt-get install python3-numpy): ${String(error)}`,
    );
  }
  const parsed = JSON.parse(stdout) as Record<string, Written | boolean>;
  evilIsLive = parsed['evilIsLive'] === true;
  delete parsed['evilIsLive'];
  written = parsed as Record<string, Written>;
});

after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('parseNpy', () => {
  for (const spec of ARRAYS) {
    const layout = spec.fortran ? 'Fortran' : 'C';
    it(`reads ${spec.descr} ${spec.shape.join('x')} in ${layout} order from a version ${spec.version}.0 file as numpy wrote it`, async () => {
      const expected = written[spec.name]!;
      assert.equal(expected.fortran, spec.fortran, 'numpy wrote the order asked for');
      const array = await parseFile(`${spec.name}.npy`);
      assert.deepEqual(array.shape, expected.shape);
      assert.equal(array.dtype, expected.descr);
      assert.equal(array.fortranOrder, spec.fortran);
      assert.deepEqual(
        Array.from(array.values),
        expected.values.map((v) => (typeof v === 'boolean' ? Number(v) : v)),
      );
    });
  }

  it('reads native byte order (=) in a hand-written header', async () => {
    const array = await parseFile('native.npy');
    assert.equal(array.dtype, '=f8');
    assert.deepEqual(Array.from(array.values), written['native']!.values);
  });

  it('refuses a pickled object array without unpickling it', async () => {
    assert.ok(evilIsLive, 'numpy itself runs the fixture pickle when it loads it with allow_pickle=True');
    for (const name of ['object-dict.npy', 'object-evil.npy']) {
      await rejectsWithDataLoss(
        parseFile(name),
        at(name),
        /holds Python objects \(dtype 'O'\); voxelfeed never unpickles files\. Save the boxes as a float array: np\.save\(path, np\.asarray\(boxes, dtype=np\.float32\)\)$/,
      );
    }
    assert.equal(existsSync(at('unpickled.marker')), false, 'the pickle payload did not run');
  });

  it('refuses structured and string dtypes, naming the dtype', async () => {
    await rejectsWithDataLoss(parseFile('structured.npy'), at('structured.npy'), /structured dtype/);
    await rejectsWithDataLoss(parseFile('strings.npy'), at('strings.npy'), /dtype '<U2' is not supported/);
  });

  it('reports a truncated file with the expected and found byte counts', async () => {
    const bytes = await readFile(at('f8-le-v1.npy'));
    await writeFile(at('cut.npy'), bytes.subarray(0, bytes.length - 3));
    await rejectsWithDataLoss(
      parseFile('cut.npy'),
      at('cut.npy'),
      /expected 120 bytes .*shape \(3, 5\).* found 117/,
    );
    await writeFile(at('cut-header.npy'), bytes.subarray(0, 40));
    await rejectsWithDataLoss(parseFile('cut-header.npy'), at('cut-header.npy'), /file is truncated/);
  });

  it('refuses a file without the npy magic', async () => {
    const bytes = Buffer.from(await readFile(at('f8-le-v1.npy')));
    bytes[1] = 0x4f; // "\x93OUMPY"
    await writeFile(at('magic.npy'), bytes);
    await rejectsWithDataLoss(parseFile('magic.npy'), at('magic.npy'), /does not start with the magic/);
  });

  it('refuses an unknown format version', async () => {
    const bytes = Buffer.from(await readFile(at('f8-le-v1.npy')));
    bytes[6] = 4;
    await writeFile(at('v4.npy'), bytes);
    await rejectsWithDataLoss(parseFile('v4.npy'), at('v4.npy'), /version 4\.0 is not supported/);
  });
});

describe('readBoxesNpy', () => {
  it('reads (N, 4) rows as nodule centres and diameters', async () => {
    assert.deepEqual(await readBoxesNpy(at('boxes-n4.npy')), [
      { center: [10.5, 20, 30], diameter: 6.25 },
      { center: [1, 2, 3], diameter: 0 },
      { center: [7, 8, 9], diameter: 12 },
    ]);
  });

  it('reads a (4,) array as one row and integer arrays of either byte order', async () => {
    assert.deepEqual(await readBoxesNpy(at('boxes-row.npy')), [{ center: [4, 5, 6], diameter: 7.5 }]);
    assert.deepEqual(await readBoxesNpy(at('boxes-int16-be.npy')), [{ center: [1, 2, 3], diameter: 4 }]);
  });

  it('reads (0,) and (0, 4) arrays as no nodules', async () => {
    assert.deepEqual(await readBoxesNpy(at('boxes-empty.npy')), []);
    assert.deepEqual(await readBoxesNpy(at('boxes-empty-n4.npy')), []);
  });

  it('uses the first four columns of wider rows', async () => {
    assert.deepEqual(await readBoxesNpy(at('boxes-n6.npy')), [
      { center: [1, 2, 3], diameter: 4 },
      { center: [5, 6, 7], diameter: 8 },
    ]);
  });

  it('refuses a negative diameter, naming the row and value', async () => {
    const file = at('boxes-negative.npy');
    await rejectsWithDataLoss(readBoxesNpy(file), file, /row 1 has diameter -2/);
  });

  it('refuses NaN, naming the row and column', async () => {
    const file = at('boxes-nan.npy');
    await rejectsWithDataLoss(readBoxesNpy(file), file, /row 1 has c1 = NaN/);
  });

  it('refuses rows of fewer than four columns', async () => {
    const file = at('boxes-n3.npy');
    await rejectsWithDataLoss(readBoxesNpy(file), file, /shape \(2, 3\); expected \(N, 4\)/);
  });

  it('refuses a wrong shape from the header, naming it, before widening any value', async () => {
    for (const [name, shape] of [
      ['boxes-wide-n3.npy', /shape \(100000, 3\); expected \(N, 4\)/],
      ['boxes-flat.npy', /shape \(20000,\); expected \(N, 4\)/],
    ] as const) {
      const file = at(name);
      await rejectsWithDataLoss(readBoxesNpy(file), file, shape);
      const lengths = await float64Allocations(() => readBoxesNpy(file));
      assert.ok(
        lengths.every((length) => length < 1000),
        `${name}: Float64Arrays of ${lengths.join(', ')} values were built to refuse it`,
      );
    }
  });

  it('widens the values of a well-shaped file (the allocation spy sees them)', async () => {
    const lengths = await float64Allocations(() => readBoxesNpy(at('boxes-many-n4.npy')));
    assert.ok(lengths.includes(4000), `Float64Arrays built: ${lengths.join(', ')}`);
    assert.equal((await readBoxesNpy(at('boxes-many-n4.npy'))).length, 1000);
  });

  it('refuses a pickled boxes file', async () => {
    const file = at('object-dict.npy');
    await rejectsWithDataLoss(readBoxesNpy(file), file, /never unpickles/);
  });

  it('reports a missing file as DATA_LOSS naming it', async () => {
    await rejectsWithDataLoss(readBoxesNpy(at('absent.npy')), at('absent.npy'), /cannot read the boxes file/);
  });
});
