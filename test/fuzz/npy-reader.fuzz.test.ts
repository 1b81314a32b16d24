import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { type NpyArray, parseNpy, readBoxesNpy } from '../../server/dataset/npy/npy-reader.js';
import { encodeNpy } from '../../server/synth/npy-writer.js';
import { bounded, expectVoxelfeedError, fuzzParameters } from './fuzz-support.js';

/*
 * Properties of parseNpy and readBoxesNpy over files written by numpy (python3-numpy, one run in `before`) and
 * by the repo's own npy-writer.ts, then damaged: random bytes, truncations, flipped bytes, and headers whose
 * dict (descr, fortran_order, shape), length field or version is replaced. Every case ends, within a bound,
 * in an array consistent with its header or a DATA_LOSS VoxelfeedError naming the offending key or value.
 */

const CASE_MS = 1000;
const SOURCE = 'fuzz.npy';
const run = promisify(execFile);

let dir = '';
const at = (name: string): string => path.join(dir, name);

/** numpy's own files: valid ones to damage, and object arrays (pickles) that must be refused. */
const NUMPY_SCRIPT = `
import json, sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(5)
seeds = {}
def save(name, array, version=None, fortran=False):
    if fortran: array = np.asfortranarray(array)
    with open(f"{out}/{name}.npy", "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=True)
    seeds[name] = array.ravel(order="C").tolist() if array.dtype.kind in "fiub" else None
save("boxes-f8", rng.uniform(0, 50, (3, 4)))
save("boxes-f4-v2-fortran", rng.uniform(0, 50, (5, 4)).astype("<f4"), version=(2, 0), fortran=True)
save("boxes-be-i2-v3", rng.integers(0, 60, (2, 4)).astype(">i2"), version=(3, 0))
save("row-u1", np.arange(4, dtype="u1"))
save("empty", np.zeros((0, 4)))
save("cube-fortran", rng.uniform(-1, 1, (2, 3, 4)), fortran=True)
save("objects", np.array([{"box": [1, 2, 3, 4]}, None], dtype=object))
save("objects-2d", np.empty((2, 4), dtype=object))
save("structured-object", np.zeros(2, dtype=[("box", "<f8", (4,)), ("tag", "O")]))
print(json.dumps(seeds))
`;

let numpySeeds: Map<string, { bytes: Buffer; values: number[] | null }>;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'voxelfeed-fuzz-npy-'));
  await mkdir(at('folder.npy'));
  await run('mkfifo', [at('fifo.npy')]);
  const { stdout } = await run('python3', ['-c', NUMPY_SCRIPT, dir]);
  const values = JSON.parse(stdout) as Record<string, number[] | null>;
  numpySeeds = new Map();
  for (const [name, written] of Object.entries(values)) {
    numpySeeds.set(name, { bytes: await readFile(at(`${name}.npy`)), values: written });
  }
});

after(async () => {
  if (dir === '') return;
  // Should a regression block on the FIFO, a writer end releases that thread so the process can exit.
  await open(at('fifo.npy'), constants.O_WRONLY | constants.O_NONBLOCK).then(
    (handle) => handle.close(),
    () => {},
  );
  await rm(dir, { recursive: true, force: true });
});

/** parseNpy with the time bound: the array, or the thrown value (assertion failures propagate). */
async function parseBounded(bytes: Uint8Array): Promise<{ array?: NpyArray; error?: unknown }> {
  try {
    return {
      array: await bounded(`parsing ${bytes.length} bytes`, CASE_MS, async () => parseNpy(bytes, SOURCE)),
    };
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return { error };
  }
}

function assertConsistent(array: NpyArray): void {
  for (const size of array.shape) assert.ok(Number.isSafeInteger(size) && size >= 0, `shape ${array.shape}`);
  const count = array.shape.reduce((product, size) => product * size, 1);
  assert.equal(array.values.length, count);
}

// ---------------------------------------------------------------------------------------------------------
// Files built part by part: a preamble (magic, version, header length) and a header dict whose entries are
// raw Python literal text, so each part can be valid, absurd or not a literal at all.

interface NpyParts {
  readonly version: number;
  readonly descr: string;
  readonly fortran: string;
  readonly shape: string;
  readonly extra: string;
  readonly headerLength: number | null;
  readonly data: Uint8Array;
}

function buildNpy(parts: NpyParts): Buffer {
  const dict = `{'descr': ${parts.descr}, 'fortran_order': ${parts.fortran}, 'shape': ${parts.shape}, ${parts.extra}}`;
  const preamble = parts.version === 1 ? 10 : 12;
  const padded = dict + ' '.repeat((64 - ((preamble + dict.length + 1) % 64)) % 64) + '\n';
  const header = Buffer.from(padded, 'latin1');
  const out = Buffer.alloc(preamble);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, parts.version & 0xff, 0], 0);
  const length = parts.headerLength ?? header.length;
  if (preamble === 10) out.writeUInt16LE(length & 0xffff, 8);
  else out.writeUInt32LE(length >>> 0, 8);
  return Buffer.concat([out, header, parts.data]);
}

const VALID_DESCRS = ["'<f8'", "'<f4'", "'>f8'", "'|u1'", "'<i8'", "'|b1'", "'>u2'", "'=i4'", "'f8'"];
const INVALID_DESCRS = [
  "'|O'",
  "'O'",
  "'<O8'",
  "'<c16'",
  "'<U4'",
  "'|S4'",
  "'|V8'",
  "'<f2'",
  "'<f16'",
  "'<f0'",
  "''",
  "[('box', '<f8', (4,)), ('tag', '|O')]",
  "[('a', '<f8')]",
  'None',
  '8',
  "'<M8[ns]'",
  "b'<f8'",
];
const FORTRANS = ['False', 'True', '0', '1', "'True'", 'None', 'garbage', '[]', '{}'];
const ABSURD_SHAPES = [
  '()',
  '(-1, 4)',
  '(9007199254740992,)',
  '(9007199254740993,)',
  '(1e12,)',
  '(1000000000000,)',
  '(9223372036854775807, 4)',
  '(4294967296, 4294967296)',
  '(2, 4, 0, 100000000000)',
  '(0,)',
  "('a',)",
  '(1.5, 4)',
  'None',
  '[2, 4]',
  '5',
  "{'a': 1}",
  `(${'1, '.repeat(2000)})`,
  '('.repeat(20_000),
  `(${'[('.repeat(3000)}`,
];
const EXTRAS = [
  '',
  "'extra': 1, ",
  "'descr': '<f4', ",
  `'x': ${'['.repeat(5000)}`,
  "'s': '\\u12', ",
  "'s': 'a",
];
const WIDTHS: Record<string, number> = { f8: 8, f4: 4, u1: 1, i8: 8, b1: 1, u2: 2, i4: 4 };

/** A valid part-built file: a supported dtype, C or Fortran order, a small shape and exactly its data. */
const validParts: fc.Arbitrary<NpyParts & { readonly dims: number[] }> = fc
  .record({
    version: fc.constantFrom(1, 2, 3),
    descr: fc.constantFrom(...VALID_DESCRS),
    fortran: fc.constantFrom('False', 'True'),
    dims: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
    seed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  })
  .map(({ version, descr, fortran, dims, seed }) => {
    const width = WIDTHS[descr.replace(/[^a-z0-9]/g, '')]!;
    const count = dims.reduce((product, size) => product * size, 1);
    const data = new Uint8Array(count * width);
    let state = seed;
    for (let i = 0; i < data.length; i++) {
      state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
      data[i] = state >>> 24;
    }
    const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
    return { version, descr, fortran, shape, extra: '', headerLength: null, data, dims };
  });

type Deviation =
  | { readonly part: 'descr' | 'fortran' | 'shape' | 'extra'; readonly text: string }
  | { readonly part: 'version' | 'headerLength' | 'dataDelta'; readonly value: number };

const deviation: fc.Arbitrary<Deviation> = fc.oneof(
  fc.constantFrom(...INVALID_DESCRS, ...VALID_DESCRS).map((text) => ({ part: 'descr' as const, text })),
  fc.constantFrom(...FORTRANS).map((text) => ({ part: 'fortran' as const, text })),
  fc.constantFrom(...ABSURD_SHAPES).map((text) => ({ part: 'shape' as const, text })),
  fc.constantFrom(...EXTRAS).map((text) => ({ part: 'extra' as const, text })),
  fc.constantFrom(0, 1, 2, 3, 4, 255).map((value) => ({ part: 'version' as const, value })),
  fc
    .oneof(fc.constantFrom(0, 1, 0xffff, 0xffff_ffff), fc.integer({ min: 0, max: 400 }))
    .map((value) => ({ part: 'headerLength' as const, value })),
  fc.integer({ min: -9, max: 9 }).map((value) => ({ part: 'dataDelta' as const, value })),
);

function applyDeviation(parts: NpyParts, change: Deviation): NpyParts {
  switch (change.part) {
    case 'descr':
    case 'fortran':
    case 'shape':
    case 'extra':
      return { ...parts, [change.part]: change.text };
    case 'version':
      return { ...parts, version: change.value };
    case 'headerLength':
      return { ...parts, headerLength: change.value };
    case 'dataDelta': {
      const length = Math.max(0, parts.data.length + change.value);
      const data = new Uint8Array(length);
      data.set(parts.data.subarray(0, length));
      return { ...parts, data };
    }
  }
}

/** What an error caused by `change` may name. A part that is no literal fails the whole dict's parse. */
function mentionsOf(change: Deviation): string[] {
  const unparsable = 'not a Python dict literal';
  switch (change.part) {
    case 'descr':
      return ['dtype', change.text.replace(/^'|'$/g, ''), 'structured', 'objects', unparsable];
    case 'fortran':
      return ['fortran_order', unparsable];
    case 'shape':
      return ['shape', unparsable];
    case 'extra':
      return [unparsable, 'dtype']; // a second 'descr' wins, as in Python's dict literals
    case 'version':
      return ['version', `header claims`, unparsable, 'expected'];
    case 'headerLength':
      return ['header', 'truncated'];
    case 'dataDelta':
      return ['bytes of array data'];
  }
}

// ---------------------------------------------------------------------------------------------------------

describe('parseNpy under fuzzing', () => {
  it("reads numpy's own files (versions 1, 2 and 3, C and Fortran order) as numpy's values", () => {
    for (const [name, { bytes, values }] of numpySeeds) {
      if (values === null) continue;
      const array = parseNpy(bytes, name);
      assert.deepEqual([...array.values], values, name);
    }
  });

  it('reads back every array its own writer wrote, NaN and infinities included', async () => {
    const shaped = fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }).chain((shape) => {
      const count = shape.reduce((product, size) => product * size, 1);
      return fc.tuple(fc.constant(shape), fc.array(fc.double(), { minLength: count, maxLength: count }));
    });
    await fc.assert(
      fc.asyncProperty(shaped, fc.boolean(), async ([shape, source], wide) => {
        const values = wide ? Float64Array.from(source) : Float32Array.from(source);
        const { array, error } = await parseBounded(encodeNpy(values, shape));
        assert.equal(error, undefined, String(error));
        assert.deepEqual(array!.shape, shape);
        assert.ok(
          array!.values.every((value, i) => Object.is(value, values[i])),
          'values differ',
        );
      }),
      fuzzParameters(100),
    );
  });

  it('refuses random bytes, with or without the magic, with a DATA_LOSS error and never a crash', async () => {
    const prefix = fc.constantFrom(
      '',
      '\x93NUMPY',
      '\x93NUMPY\x01\x00',
      '\x93NUMPY\x02\x00',
      '\x93NUMPY\x03\x00\xff\xff',
    );
    await fc.assert(
      fc.asyncProperty(prefix, fc.uint8Array({ maxLength: 600 }), async (head, tail) => {
        const { array, error } = await parseBounded(Buffer.concat([Buffer.from(head, 'latin1'), tail]));
        if (array !== undefined) assertConsistent(array);
        else expectVoxelfeedError(error, { code: 'DATA_LOSS', all: [SOURCE] });
      }),
      fuzzParameters(300),
    );
  });

  it('reads truncated or byte-flipped numpy files as a consistent array or a DATA_LOSS error', async () => {
    const names = [...numpySeeds.keys()];
    const flips = fc.array(
      fc.tuple(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 0, max: 255 }),
      ),
      { maxLength: 4 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...names),
        fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
        flips,
        async (name, cut, changes) => {
          const bytes = Buffer.from(numpySeeds.get(name)!.bytes);
          for (const [where, value] of changes) bytes[Math.floor(where * bytes.length)] = value;
          const { array, error } = await parseBounded(
            cut === null ? bytes : bytes.subarray(0, Math.floor(cut * bytes.length)),
          );
          if (array !== undefined) assertConsistent(array);
          else expectVoxelfeedError(error, { code: 'DATA_LOSS', all: [SOURCE] });
        },
      ),
      fuzzParameters(200),
    );
  });

  it('reads every valid part-built file with its shape and data', async () => {
    await fc.assert(
      fc.asyncProperty(validParts, async (parts) => {
        const { array, error } = await parseBounded(buildNpy(parts));
        assert.equal(error, undefined, String(error));
        assert.deepEqual(array!.shape, parts.dims);
        assert.equal(array!.fortranOrder, parts.fortran === 'True');
        assertConsistent(array!);
      }),
      fuzzParameters(100),
    );
  });

  it('answers absurd or broken header dicts, length fields, versions and data sizes with an error naming them', async () => {
    await fc.assert(
      fc.asyncProperty(
        validParts,
        fc.array(deviation, { minLength: 1, maxLength: 3 }),
        async (valid, changes) => {
          const parts = changes.reduce(applyDeviation, valid as NpyParts);
          const { array, error } = await parseBounded(buildNpy(parts));
          if (array !== undefined) assertConsistent(array);
          else
            expectVoxelfeedError(error, {
              code: 'DATA_LOSS',
              all: [SOURCE],
              anyOf: changes.flatMap(mentionsOf),
            });
        },
      ),
      fuzzParameters(400),
    );
  });
});

describe('readBoxesNpy under fuzzing', () => {
  it('refuses object arrays (pickles) without unpickling them, whatever their shape', async () => {
    for (const name of ['objects', 'objects-2d', 'structured-object']) {
      const file = at(`${name}.npy`);
      await assert.rejects(readBoxesNpy(file), (error: unknown) =>
        Boolean(
          expectVoxelfeedError(error, {
            code: 'DATA_LOSS',
            all: [file],
            anyOf: ['never unpickles', 'structured dtype'],
          }),
        ),
      );
    }
  });

  it('refuses a directory or a FIFO in place of a boxes file without blocking on it', async () => {
    for (const name of ['folder.npy', 'fifo.npy']) {
      await assert.rejects(
        bounded(name, CASE_MS, () => readBoxesNpy(at(name))),
        (error: unknown) =>
          Boolean(expectVoxelfeedError(error, { code: 'DATA_LOSS', all: [at(name), 'not a regular file'] })),
      );
    }
  });

  it('reads damaged boxes files as finite boxes with diameters >= 0, or a DATA_LOSS error', async () => {
    await fc.assert(
      fc.asyncProperty(validParts, fc.array(deviation, { maxLength: 2 }), async (valid, changes) => {
        const file = at('boxes.npy');
        await writeFile(file, buildNpy(changes.reduce(applyDeviation, valid as NpyParts)));
        try {
          const nodules = await bounded('readBoxesNpy', CASE_MS, () => readBoxesNpy(file));
          for (const { center, diameter } of nodules) {
            assert.ok(
              [...center, diameter].every(Number.isFinite) && diameter >= 0,
              JSON.stringify({ center, diameter }),
            );
          }
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          expectVoxelfeedError(error, { code: 'DATA_LOSS', all: [file] });
        }
      }),
      fuzzParameters(150),
    );
  });
});
