import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { loadSeriesVolume } from '../../server/dataset/loading/load-series-volume.js';
import { parseNrrdHeader } from '../../server/dataset/nrrd/nrrd-header.js';
import { type ReadRawVolume, readNrrdVolume } from '../../server/dataset/nrrd/nrrd-reader.js';
import { isVoxelfeedError } from '../../server/errors.js';
import { encodeNrrd, type NrrdWriteType } from '../../server/synth/nrrd-writer.js';
import {
  type AllocationWatch,
  bounded,
  expectVoxelfeedError,
  fuzzParameters,
  numberSpellings,
  watchBufferAllocations,
} from './fuzz-support.js';

/*
 * Properties of readNrrdVolume over files its own writer (nrrd-writer.ts) wrote, then damaged: random bytes,
 * truncations, flipped bytes and mutated header lines. Every case ends, within a bound, either in a volume
 * consistent with its header or in a VoxelfeedError (DATA_LOSS) that names the file and the mutated field or
 * its value; no case allocates more than its file could hold.
 */

/** Cases take a few ms; the bound is far above that, for slow CI machines, and far below a hang. */
const CASE_MS = 1000;
const TYPES: readonly NrrdWriteType[] = ['uint8', 'int16', 'float32'];
const WIDTH: Record<NrrdWriteType, number> = { uint8: 1, int16: 2, float32: 4 };
/** deflate's largest expansion (1032:1), the reader's own bound for gzip data. */
const DEFLATE_RATIO = 1032;
/** Node's own small requests (pooled Buffers) are not the reader's voxel allocations. */
const SMALL_ALLOCATION = 4096;

let root = '';
let dir = '';
let watch: AllocationWatch;
const at = (name: string): string => path.join(dir, name);

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'voxelfeed-fuzz-nrrd-'));
  dir = path.join(root, 'case');
  await mkdir(path.join(dir, 'sub'), { recursive: true });
  await writeFile(path.join(root, 'outside.raw'), new Uint8Array(60).fill(7));
  await promisify(execFile)('mkfifo', [at('fifo')]);
  watch = watchBufferAllocations();
});

after(async () => {
  watch?.restore();
  if (root === '') return;
  // Should a regression block an open() on the FIFO, a writer end releases that thread so the process can exit.
  await open(at('fifo'), constants.O_WRONLY | constants.O_NONBLOCK).then(
    (handle) => handle.close(),
    () => {},
  );
  await rm(root, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------
// Seeds: valid volumes written by nrrd-writer.ts, attached (.nrrd) or detached (.nhdr + data file).

interface SeedSpec {
  readonly shape: readonly [number, number, number];
  /** Where a 4-D file puts its size-1 axis; null for 3-D. */
  readonly channelAxis: number | null;
  readonly type: NrrdWriteType;
  readonly encoding: 'raw' | 'gzip';
  readonly detached: boolean;
  readonly valueSeed: number;
  readonly spacings: boolean;
}

interface NrrdCase {
  /** Header lines without the blank line that ends them. */
  readonly lines: string[];
  readonly body: Uint8Array;
  readonly detached: boolean;
  readonly type: NrrdWriteType;
  readonly shape: readonly [number, number, number];
  /** The voxels as written, in file order. */
  readonly voxels: Uint8Array;
}

const seedSpec: fc.Arbitrary<SeedSpec> = fc.record({
  shape: fc.tuple(
    fc.integer({ min: 2, max: 6 }),
    fc.integer({ min: 1, max: 5 }),
    fc.integer({ min: 2, max: 4 }),
  ),
  channelAxis: fc.option(fc.integer({ min: 0, max: 3 })),
  type: fc.constantFrom(...TYPES),
  encoding: fc.constantFrom('raw' as const, 'gzip' as const),
  detached: fc.boolean(),
  valueSeed: fc.integer({ min: 0, max: 0x7fff_ffff }),
  spacings: fc.boolean(),
});

/** Voxel values from a small LCG: every byte pattern of the type (float32 NaNs included) can occur. */
function voxelData(type: NrrdWriteType, count: number, seed: number): Uint8Array | Int16Array | Float32Array {
  const bytes = new Uint8Array(count * WIDTH[type]);
  let state = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    bytes[i] = state >>> 24;
  }
  if (type === 'uint8') return bytes;
  return type === 'int16' ? new Int16Array(bytes.buffer) : new Float32Array(bytes.buffer);
}

async function seedCase(spec: SeedSpec): Promise<NrrdCase> {
  const shape = spec.shape;
  const sizes = [...shape];
  // Without kinds the reader needs exactly one size-1 axis in a 4-D file, so a 4-D seed keeps its spatial
  // sizes >= 2: with sizes 2 1 2 1 nothing tells which axis is the channel. With kinds, it is marked scalar.
  const channel = spec.channelAxis !== null && shape.every((size) => size >= 2) ? spec.channelAxis : null;
  if (channel !== null) sizes.splice(channel, 0, 1);
  const data = voxelData(spec.type, shape[0] * shape[1] * shape[2], spec.valueSeed);
  const options = {
    sizes,
    type: spec.type,
    encoding: spec.encoding,
    data,
    gzipLevel: 1,
    ...(spec.spacings
      ? {
          spacings: sizes.map((_, k) => 0.5 + k),
          kinds: sizes.map((_, k) => (k === channel ? 'scalar' : 'domain')),
        }
      : {}),
  };
  const file = await encodeNrrd(options);
  const headerEnd = file.indexOf('\n\n') + 2;
  const lines = file
    .subarray(0, headerEnd - 2)
    .toString('latin1')
    .split('\n');
  if (spec.detached) lines.push('data file: case.raw');
  return {
    lines,
    body: file.subarray(headerEnd),
    detached: spec.detached,
    type: spec.type,
    shape,
    voxels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

interface Written {
  readonly headerPath: string;
  readonly dataPath: string;
  /** The largest of the header and data files: what any allocation is measured against. */
  readonly fileBytes: number;
}

/** Writes a case: `case.nrrd` with its data attached, or `case.nhdr` plus `case.raw`. */
async function writeCase(
  lines: readonly string[],
  body: Uint8Array,
  detached: boolean,
  damage: (bytes: Buffer, which: 'header' | 'data') => Buffer = (bytes) => bytes,
): Promise<Written> {
  const headerText = Buffer.from(`${lines.join('\n')}\n\n`, 'latin1');
  const headerPath = at(detached ? 'case.nhdr' : 'case.nrrd');
  const dataPath = at('case.raw');
  if (detached) {
    const header = damage(headerText, 'header');
    const data = damage(Buffer.from(body), 'data');
    await writeFile(headerPath, header);
    await writeFile(dataPath, data);
    return { headerPath, dataPath, fileBytes: Math.max(header.length, data.length) };
  }
  const whole = damage(Buffer.concat([headerText, body]), 'header');
  await writeFile(headerPath, whole);
  return { headerPath, dataPath: headerPath, fileBytes: whole.length };
}

/** Reads with the allocation watch on: returns the volume or the thrown value, and the largest Buffer asked for. */
async function readWatched(
  headerPath: string,
): Promise<{ volume?: ReadRawVolume; error?: unknown; largest: number }> {
  watch.reset();
  try {
    const volume = await bounded(`reading ${headerPath}`, CASE_MS, () => readNrrdVolume(headerPath));
    return { volume, largest: watch.largest };
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return { error, largest: watch.largest };
  }
}

/** A read volume's own invariants: three sizes, as many values as they need, of a known type. */
function assertConsistent(volume: ReadRawVolume): void {
  assert.equal(volume.sizes.length, 3);
  for (const size of volume.sizes) assert.ok(Number.isSafeInteger(size) && size >= 1, `size ${size}`);
  assert.equal(volume.data.length, volume.sizes[0] * volume.sizes[1] * volume.sizes[2]);
}

function bytesOf(volume: ReadRawVolume): Uint8Array {
  return new Uint8Array(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
}

// ---------------------------------------------------------------------------------------------------------
// Header mutations.

type Mutation =
  | { readonly kind: 'set'; readonly field: string; readonly value: string }
  | { readonly kind: 'remove'; readonly field: string }
  | { readonly kind: 'duplicate'; readonly field: string }
  | { readonly kind: 'line'; readonly text: string }
  | { readonly kind: 'blank'; readonly at: number };

const SIZE_WORDS = [
  '0',
  '1',
  '2',
  '3',
  '5',
  '-1',
  '-5',
  '-0',
  '2147483648',
  '4294967296',
  '9007199254740992',
  '9007199254740993',
  '1000000000000',
  '1e12',
  'NaN',
  'abc',
  '1.5',
  '+3',
  '0x10',
  '9'.repeat(400),
];
const SKIP_WORDS = [
  '4095',
  '4096',
  '1000000000000',
  '1e12',
  '9007199254740992',
  '9223372036854775807',
  '9'.repeat(30),
  'NaN',
  '-0',
  '1.0',
  '',
];
const TYPE_WORDS = [
  'uchar',
  'unsigned char',
  'signed char',
  'short',
  'ushort',
  'int',
  'uint',
  'float',
  'double',
  'int64',
  'unsigned long long',
  'long long',
  'block',
  'float16',
  'half',
  '',
  'DOUBLE',
  'Unsigned  Short',
  'uint8_t',
  'bool',
];
const ENCODING_WORDS = [
  'raw',
  'gzip',
  'gz',
  'GZIP',
  'ascii',
  'text',
  'hex',
  'bzip2',
  'bz2',
  'zrl',
  'lzma',
  '',
];
const ENDIAN_WORDS = ['little', 'big', 'LITTLE', 'Big', 'middle', '', 'none'];
/** Relative to the header's folder; "{root}" stands for the temp root (outside that folder). */
const DATA_FILE_WORDS = [
  'case.raw',
  'missing.raw',
  '../outside.raw',
  '{root}/outside.raw',
  '{root}/case/case.nrrd',
  '.',
  '',
  'sub',
  'fifo',
  '/dev/zero',
  '/dev/null',
  'case.raw\u0000x',
  'LIST',
  'case%03d.raw 1 3 1',
];
const FIELDS = [
  'sizes',
  'dimension',
  'type',
  'encoding',
  'endian',
  'byte skip',
  'line skip',
  'data file',
  'spacings',
  'kinds',
  'space directions',
];
const LINE_CHARS = [' ', '(', ')', ',', '1', '0', '.', '-', 'n', 'a', 'x', 'd', 'o', 'm', 'i', 'e', '\t'];

/** Runs that make a backtracking parser go super-linear: "(" then thousands of spaces, or thousands of "(". */
const longRun: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom('(', ''),
    fc.constantFrom(' ', '(', '( ', ', '),
    fc.integer({ min: 300, max: 2500 }),
    fc.constantFrom('x', ')', '', '1'),
  )
  .map(([open, unit, count, close]) => open + unit.repeat(count) + close);

const perAxisValue: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...LINE_CHARS), maxLength: 60 }),
  longRun,
);

function valueFor(field: string): fc.Arbitrary<string> {
  switch (field) {
    case 'sizes':
      return fc.array(fc.constantFrom(...SIZE_WORDS), { maxLength: 20 }).map((words) => words.join(' '));
    case 'dimension':
      return fc.oneof(
        fc.integer({ min: -2, max: 20 }).map(String),
        fc.constantFrom('NaN', '1e12', '9007199254740993', ''),
      );
    case 'type':
      return fc.constantFrom(...TYPE_WORDS);
    case 'encoding':
      return fc.constantFrom(...ENCODING_WORDS);
    case 'endian':
      return fc.constantFrom(...ENDIAN_WORDS);
    case 'byte skip':
    case 'line skip':
      return fc.oneof(fc.integer({ min: -3, max: 70 }).map(String), fc.constantFrom(...SKIP_WORDS));
    case 'data file':
      return fc.constantFrom(...DATA_FILE_WORDS);
    default:
      return perAxisValue;
  }
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...FIELDS)
      .chain((field) => valueFor(field).map((value) => ({ kind: 'set' as const, field, value }))),
  },
  { weight: 1, arbitrary: fc.constantFrom(...FIELDS).map((field) => ({ kind: 'remove' as const, field })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...FIELDS).map((field) => ({ kind: 'duplicate' as const, field })),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: 'binary-ascii', maxLength: 40 })
      .map((text) => ({ kind: 'line' as const, text: text.replace(/[\r\n]/g, ' ') })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }).map((at) => ({ kind: 'blank' as const, at })) },
);

function fieldOf(line: string): string | null {
  const colon = line.indexOf(':');
  return colon < 0 || line.startsWith('#') ? null : line.slice(0, colon).trim().toLowerCase();
}

function applyMutation(lines: string[], change: Mutation): void {
  const index = (field: string) => lines.findIndex((line) => fieldOf(line) === field);
  switch (change.kind) {
    case 'set': {
      const line = `${change.field}: ${change.value.replaceAll('{root}', root)}`;
      const found = index(change.field);
      if (found < 0) lines.push(line);
      else lines[found] = line;
      return;
    }
    case 'remove': {
      const found = index(change.field);
      if (found >= 0) lines.splice(found, 1);
      return;
    }
    case 'duplicate': {
      const found = index(change.field);
      if (found >= 0) lines.push(lines[found]!);
      return;
    }
    case 'line':
      lines.push(change.text);
      return;
    case 'blank':
      lines.splice(Math.min(change.at, lines.length), 0, '');
      return;
  }
}

/** What an error caused by `change` may name: the field, the value as written or as a number, its path. */
function mentionsOf(change: Mutation): string[] {
  switch (change.kind) {
    case 'set': {
      const names = [change.field === 'space directions' ? 'space direction' : change.field];
      if (change.field === 'type') names.push('endian'); // a multi-byte type needs an endian line
      // Fewer or more axes show first in a per-axis field (kinds, spacings) that no longer matches them.
      if (change.field === 'sizes' || change.field === 'dimension') names.push('axes');
      const value = change.value.replaceAll('{root}', root);
      const paths =
        change.field === 'data file' && !value.includes('\u0000') ? [path.resolve(dir, value)] : [];
      return [...names, ...numberSpellings(value).filter((text) => text !== ''), ...paths];
    }
    case 'remove':
      return [change.field, 'bytes of voxel data'];
    case 'duplicate':
      return [change.field];
    case 'line': {
      const field = fieldOf(change.text);
      // An empty line ends the header early: what follows is read as data.
      if (change.text === '') return ['has no', 'bytes of voxel data', 'gzip data'];
      return ['header line', ...(field ? [field] : []), change.text.trim()].filter((text) => text !== '');
    }
    case 'blank':
      return ['has no', 'bytes of voxel data', 'gzip data', 'header line'];
  }
}

/** Whether the header, as finally written, declares gzip data (whose inflated size may be up to 1032x). */
function declaresGzip(lines: readonly string[]): boolean {
  return lines.some(
    (line) => fieldOf(line) === 'encoding' && /^\s*(gzip|gz)\s*$/i.test(line.slice(line.indexOf(':') + 1)),
  );
}

// ---------------------------------------------------------------------------------------------------------

describe('readNrrdVolume under fuzzing', () => {
  it('reads back every volume its own writer wrote: raw or gzip, attached or detached, 3-D or 4-D', async () => {
    await fc.assert(
      fc.asyncProperty(seedSpec, async (spec) => {
        const seed = await seedCase(spec);
        const written = await writeCase(seed.lines, seed.body, seed.detached);
        const { volume, error, largest } = await readWatched(written.headerPath);
        assert.equal(error, undefined, String(error));
        assert.deepEqual(volume!.sizes, seed.shape);
        assert.equal(volume!.type, seed.type);
        assert.ok(Buffer.from(bytesOf(volume!)).equals(seed.voxels), 'the voxels differ from those written');
        assert.ok(
          largest <=
            Math.max(SMALL_ALLOCATION, written.fileBytes * (spec.encoding === 'gzip' ? DEFLATE_RATIO : 1)),
        );
      }),
      fuzzParameters(60),
    );
  });

  it('refuses random bytes, with or without the magic, with a VoxelfeedError and never a crash', async () => {
    const prefix = fc.constantFrom(
      '',
      'NRRD0004\n',
      'NRRD0001\ntype: uchar\nsizes: 2 2 2\nencoding: raw\n',
      'NRRD00',
    );
    await fc.assert(
      fc.asyncProperty(
        prefix,
        fc.uint8Array({ maxLength: 3000 }),
        fc.boolean(),
        async (head, tail, blank) => {
          const bytes = Buffer.concat([Buffer.from(head + (blank ? '\n' : ''), 'latin1'), tail]);
          const file = at('random.nrrd');
          await writeFile(file, bytes);
          const { volume, error, largest } = await readWatched(file);
          if (volume !== undefined) assertConsistent(volume);
          else expectVoxelfeedError(error, { code: 'DATA_LOSS', all: [file] });
          assert.ok(
            largest <= Math.max(SMALL_ALLOCATION, bytes.length * DEFLATE_RATIO),
            `allocated ${largest}`,
          );
        },
      ),
      fuzzParameters(200),
    );
  });

  it('reads truncated or byte-flipped files as a consistent volume or a DATA_LOSS error naming the file', async () => {
    const damage = fc.record({
      truncateAt: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
      target: fc.constantFrom('header' as const, 'data' as const),
      flips: fc.array(
        fc.tuple(
          fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
          fc.integer({ min: 0, max: 255 }),
        ),
        {
          maxLength: 4,
        },
      ),
    });
    await fc.assert(
      fc.asyncProperty(seedSpec, damage, async (spec, { truncateAt, target, flips }) => {
        const seed = await seedCase(spec);
        const written = await writeCase(seed.lines, seed.body, seed.detached, (bytes, which) => {
          if (which !== target && seed.detached) return bytes;
          const out = Buffer.from(bytes);
          for (const [where, value] of flips) out[Math.floor(where * out.length)] = value;
          return truncateAt === null ? out : out.subarray(0, Math.floor(truncateAt * out.length));
        });
        const { volume, error, largest } = await readWatched(written.headerPath);
        if (volume !== undefined) assertConsistent(volume);
        else
          expectVoxelfeedError(error, { code: 'DATA_LOSS', anyOf: [written.headerPath, written.dataPath] });
        assert.ok(
          largest <= Math.max(SMALL_ALLOCATION, written.fileBytes * DEFLATE_RATIO),
          `allocated ${largest}`,
        );
      }),
      fuzzParameters(150),
    );
  });

  it('answers mutated header lines with a consistent volume or an error naming the field or its value, allocating no more than the file holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        seedSpec,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (spec, changes) => {
          const seed = await seedCase(spec);
          const lines = [...seed.lines];
          for (const change of changes) applyMutation(lines, change);
          const written = await writeCase(lines, seed.body, seed.detached);
          const { volume, error, largest } = await readWatched(written.headerPath);
          if (volume !== undefined) {
            assertConsistent(volume);
          } else {
            expectVoxelfeedError(error, { code: 'DATA_LOSS', anyOf: changes.flatMap(mentionsOf) });
          }
          const bound = written.fileBytes * (declaresGzip(lines) ? DEFLATE_RATIO : 1) + 1;
          assert.ok(
            largest <= Math.max(SMALL_ALLOCATION, bound),
            `allocated ${largest} bytes for files of ${written.fileBytes}`,
          );
        },
      ),
      fuzzParameters(400),
    );
  });

  it('refuses absurd declared sizes before allocating anything for them', async () => {
    const absurd = fc.constantFrom(
      '1000000000000 1 1',
      '9007199254740992 1 1',
      '65536 65536 65536',
      '2147483647 2 1',
      '4096 4096 256',
    );
    await fc.assert(
      fc.asyncProperty(
        absurd,
        fc.constantFrom('raw', 'gzip'),
        fc.constantFrom('uchar', 'double'),
        async (sizes, encoding, type) => {
          const lines = [
            'NRRD0004',
            `type: ${type}`,
            'dimension: 3',
            `sizes: ${sizes}`,
            'endian: little',
            `encoding: ${encoding}`,
          ];
          const body = encoding === 'gzip' ? gzipSync(new Uint8Array(4096)) : new Uint8Array(4096);
          const written = await writeCase(lines, body, false);
          const { volume, error, largest } = await readWatched(written.headerPath);
          assert.equal(volume, undefined);
          expectVoxelfeedError(error, {
            code: 'DATA_LOSS',
            all: [written.headerPath],
            anyOf: ['bytes of voxel data'],
          });
          assert.ok(largest <= SMALL_ALLOCATION, `allocated ${largest} bytes`);
        },
      ),
      fuzzParameters(20),
    );
  });

  it('refuses a data file that is a directory, a FIFO or a device, without blocking on it', async () => {
    for (const name of ['.', '', 'sub', 'fifo', '/dev/zero', '/dev/null']) {
      const lines = [
        'NRRD0004',
        'type: uchar',
        'sizes: 4 4 4',
        'encoding: raw',
        `data file: ${name}`,
        'line skip: 1',
      ];
      const written = await writeCase(lines, new Uint8Array(0), true);
      const { volume, error } = await readWatched(written.headerPath);
      assert.equal(volume, undefined, name);
      expectVoxelfeedError(error, {
        code: 'DATA_LOSS',
        all: [written.headerPath, path.resolve(dir, name), 'not a regular file'],
      });
    }
  });

  it('reads gzip data after an odd byte skip into an aligned array of the right values', async () => {
    const values = Int16Array.from({ length: 24 }, (_, i) => i * 1000 - 12_000);
    const skipped = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(values.buffer)]);
    const lines = [
      'NRRD0004',
      'type: short',
      'sizes: 2 3 4',
      'endian: little',
      'encoding: gzip',
      'byte skip: 3',
    ];
    const written = await writeCase(lines, gzipSync(skipped), false);
    const { volume, error } = await readWatched(written.headerPath);
    assert.equal(error, undefined, String(error));
    assert.deepEqual([...volume!.data], [...values]);
  });

  it('parses per-axis lines of thousands of spaces or parentheses in linear time', async () => {
    // Sized so that the cubic regex this replaced fails in about a second each instead of hanging the run.
    for (const value of [`(${' '.repeat(1500)}x`, '('.repeat(30_000), `(${' ('.repeat(5000)}`]) {
      const header = Buffer.from(
        `NRRD0004\ntype: uchar\nsizes: 2 2 2\nencoding: raw\nspacings: ${value}\n\n`,
      );
      const started = performance.now();
      assert.throws(
        () => parseNrrdHeader(header, 'long.nrrd'),
        (error: unknown) => Boolean(expectVoxelfeedError(error, { code: 'DATA_LOSS', all: ['spacings'] })),
      );
      assert.ok(
        performance.now() - started < 200,
        `${value.length} characters took ${performance.now() - started} ms`,
      );
    }
  });

  it('stops inflating a gzip bomb one byte past the declared size', async () => {
    const bomb = gzipSync(new Uint8Array(64 << 20), { level: 9 });
    const lines = ['NRRD0004', 'type: uchar', 'sizes: 4 4 4', 'encoding: gzip'];
    const written = await writeCase(lines, bomb, false);
    const { volume, error, largest } = await readWatched(written.headerPath);
    assert.equal(volume, undefined);
    expectVoxelfeedError(error, { code: 'DATA_LOSS', all: ['expected 64 bytes', 'more than that'] });
    // Reading the compressed bytes takes the file's size; inflating, no more than the declared 64 bytes + 1.
    assert.ok(
      largest <= written.fileBytes,
      `allocated ${largest} bytes inflating a ${bomb.length}-byte bomb`,
    );
  });
});

describe('loadSeriesVolume under fuzzing', () => {
  it('loads a valid image with a damaged mask (or the reverse) as a volume or a VoxelfeedError', async () => {
    await fc.assert(
      fc.asyncProperty(
        seedSpec,
        fc.array(mutation, { maxLength: 2 }),
        fc.boolean(),
        async (spec, changes, damageMask) => {
          const seed = await seedCase({ ...spec, detached: false });
          const good = at('good.nrrd');
          await writeFile(
            good,
            Buffer.concat([Buffer.from(`${seed.lines.join('\n')}\n\n`, 'latin1'), seed.body]),
          );
          const lines = [...seed.lines];
          for (const change of changes) applyMutation(lines, change);
          const bad = (await writeCase(lines, seed.body, false)).headerPath;
          const [image, mask] = damageMask ? [good, bad] : [bad, good];
          try {
            const loaded = await bounded('loadSeriesVolume', CASE_MS, () => loadSeriesVolume(image, mask));
            const [n0, n1, n2] = loaded.volume.shape;
            assert.equal(loaded.volume.image.length, n0 * n1 * n2);
            // Masks keep their label values (0..255, clamped) since multi-class sampling; crops binarise them.
            assert.equal(loaded.volume.mask.length, n0 * n1 * n2);
          } catch (error) {
            if (error instanceof assert.AssertionError) throw error;
            assert.ok(isVoxelfeedError(error), String(error));
            expectVoxelfeedError(error, {
              code: 'DATA_LOSS',
              anyOf: [bad, image, mask, ...changes.flatMap(mentionsOf)],
            });
          }
        },
      ),
      fuzzParameters(60),
    );
  });
});
