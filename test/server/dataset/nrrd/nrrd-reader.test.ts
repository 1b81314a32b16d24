import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { parseNrrdHeader, readNrrdHeaderFile } from '../../../../server/dataset/nrrd/nrrd-header.js';
import { readNrrdVolume } from '../../../../server/dataset/nrrd/nrrd-reader.js';
import type { NrrdType } from '../../../../server/dataset/nrrd/nrrd-type.js';
import { isVoxelfeedError } from '../../../../server/errors.js';

/*
 * Every volume here is written by teem's `unu` (Debian teem-apps), the NRRD reference implementation, from
 * raw bytes that this file lays out with DataView: the reader under test never writes its own fixtures.
 */

const run = promisify(execFile);
const UNU = '/usr/bin/teem-unu';
const SIZES = [5, 4, 3] as const;
const COUNT = SIZES[0] * SIZES[1] * SIZES[2];

interface TypeCase {
  readonly type: NrrdType;
  readonly teemName: string;
  readonly bytes: number;
  readonly value: (i: number) => number;
  readonly write: (view: DataView, at: number, value: number) => void;
}

// Values span each type's range, negatives included, so a wrong sign, width or byte order shows.
const TYPES: readonly TypeCase[] = [
  {
    type: 'int8',
    teemName: 'signed char',
    bytes: 1,
    value: (i) => ((i * 37) % 256) - 128,
    write: (v, at, x) => v.setInt8(at, x),
  },
  {
    type: 'uint8',
    teemName: 'uchar',
    bytes: 1,
    value: (i) => (i * 37) % 256,
    write: (v, at, x) => v.setUint8(at, x),
  },
  {
    type: 'int16',
    teemName: 'short',
    bytes: 2,
    value: (i) => ((i * 7919) % 65536) - 32768,
    write: (v, at, x) => v.setInt16(at, x, true),
  },
  {
    type: 'uint16',
    teemName: 'ushort',
    bytes: 2,
    value: (i) => (i * 7919) % 65536,
    write: (v, at, x) => v.setUint16(at, x, true),
  },
  {
    type: 'int32',
    teemName: 'int',
    bytes: 4,
    value: (i) => ((i * 123456789) % 2 ** 32) - 2 ** 31,
    write: (v, at, x) => v.setInt32(at, x, true),
  },
  {
    type: 'uint32',
    teemName: 'uint',
    bytes: 4,
    value: (i) => (i * 123456789) % 2 ** 32,
    write: (v, at, x) => v.setUint32(at, x, true),
  },
  {
    type: 'float32',
    teemName: 'float',
    bytes: 4,
    value: (i) => Math.fround((i - 30) * 1370.125 + 0.1),
    write: (v, at, x) => v.setFloat32(at, x, true),
  },
  {
    type: 'float64',
    teemName: 'double',
    bytes: 8,
    value: (i) => (i - 30) * Math.PI * 1e10,
    write: (v, at, x) => v.setFloat64(at, x, true),
  },
];
const ENCODINGS = ['raw', 'gzip'] as const;
const ENDIANS = ['little', 'big'] as const;

let dir = '';

async function unu(...args: string[]): Promise<string> {
  const { stdout } = await run(UNU, args, { cwd: dir, maxBuffer: 64 << 20 });
  return stdout;
}

/** Little-endian bytes of `values`, written with DataView (not with the code under test). */
function rawBytes(typeCase: TypeCase, values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * typeCase.bytes);
  const view = new DataView(bytes.buffer);
  for (const [i, value] of values.entries()) typeCase.write(view, i * typeCase.bytes, value);
  return bytes;
}

function valuesOf(typeCase: TypeCase): number[] {
  return Array.from({ length: COUNT }, (_, i) => typeCase.value(i));
}

/** `unu make` of uint16.bin (the uint16 case's values) into `out`: attached, raw, little-endian ushort. */
function unuMakeUshort(out: string, sizes: readonly number[], kinds?: readonly string[]): Promise<string> {
  const kindArgs = kinds === undefined ? [] : ['-k', ...kinds];
  return unu(
    'make',
    '-i',
    'uint16.bin',
    '-t',
    'ushort',
    '-s',
    ...sizes.map(String),
    ...kindArgs,
    '-en',
    'little',
    '-o',
    out,
  );
}

function at(name: string): string {
  return path.join(dir, name);
}

/** Asserts `promise` rejects with a DATA_LOSS VoxelfeedError whose message names `file` and matches `pattern`. */
async function rejectsWithDataLoss(promise: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isVoxelfeedError(error), `expected a VoxelfeedError, got ${String(error)}`);
    assert.equal(error.code, 'DATA_LOSS');
    assert.ok(error.message.includes(file), `message does not name ${file}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

before(async () => {
  if (!existsSync(UNU)) {
    throw new Error(`${UNU} is missing; these tests need teem's unu: apt-get install teem-apps`);
  }
  dir = await mkdtemp(path.join(tmpdir(), 'voxelfeed-nrrd-'));
  await Promise.all(
    TYPES.map(async (typeCase) => {
      const { type, teemName } = typeCase;
      await writeFile(at(`${type}.bin`), rawBytes(typeCase, valuesOf(typeCase)));
      const size = SIZES.map(String);
      await unu(
        'make',
        '-i',
        `${type}.bin`,
        '-t',
        teemName,
        '-s',
        ...size,
        '-en',
        'little',
        '-o',
        `${type}-base.nrrd`,
      );
      for (const encoding of ENCODINGS) {
        for (const endian of ENDIANS) {
          const input = `${type}-base.nrrd`;
          await unu(
            'save',
            '-f',
            'nrrd',
            '-e',
            encoding,
            '-en',
            endian,
            '-i',
            input,
            '-o',
            `${type}-${encoding}-${endian}.nrrd`,
          );
        }
      }
    }),
  );
});

after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('readNrrdVolume', () => {
  for (const typeCase of TYPES) {
    for (const encoding of ENCODINGS) {
      for (const endian of ENDIANS) {
        it(`reads ${typeCase.type} data that teem saved ${encoding} ${endian}-endian, in file order`, async () => {
          const file = at(`${typeCase.type}-${encoding}-${endian}.nrrd`);
          const header = await readFile(file, 'latin1');
          assert.match(
            header,
            new RegExp(`^encoding: ${encoding}$`, 'm'),
            'teem wrote the encoding asked for',
          );
          if (typeCase.bytes > 1) assert.match(header, new RegExp(`^endian: ${endian}$`, 'm'));
          const volume = await readNrrdVolume(file);
          assert.deepEqual(volume.sizes, SIZES);
          assert.equal(volume.type, typeCase.type);
          assert.deepEqual(Array.from(volume.data), valuesOf(typeCase));
        });
      }
    }
  }

  it('reads a detached .nhdr header whose gzip data file teem wrote beside it', async () => {
    await mkdir(at('detached'), { recursive: true });
    await unu(
      'save',
      '-f',
      'nrrd',
      '-e',
      'gzip',
      '-en',
      'big',
      '-i',
      'int16-base.nrrd',
      '-o',
      'detached/vol.nhdr',
    );
    const volume = await readNrrdVolume(at('detached/vol.nhdr'));
    assert.deepEqual(Array.from(volume.data), valuesOf(TYPES[2]!));
  });

  it('resolves a detached header data file against the header folder, not the working directory', async () => {
    await mkdir(at('headers'), { recursive: true });
    // teem writes "data file: ./../float32.bin" for this.
    await unu(
      'make',
      '-h',
      '-i',
      '../float32.bin',
      '-t',
      'float',
      '-s',
      '5',
      '4',
      '3',
      '-en',
      'little',
      '-o',
      'headers/f.nhdr',
    );
    const header = await readNrrdHeaderFile(at('headers/f.nhdr'));
    assert.equal(header.dataFile, at('float32.bin'));
    const volume = await readNrrdVolume(at('headers/f.nhdr'));
    assert.deepEqual(Array.from(volume.data), valuesOf(TYPES[6]!));
  });

  it('applies line skip and byte skip to raw data as teem does', async () => {
    const typeCase = TYPES[2]!; // int16, stored big-endian below
    const big = new Uint8Array(rawBytes(typeCase, valuesOf(typeCase)));
    for (let i = 0; i < big.length; i += 2) [big[i], big[i + 1]] = [big[i + 1]!, big[i]!];
    const prefix = new TextEncoder().encode('first line\nsecond line\nJUNKJUN');
    await writeFile(at('skip.bin'), Buffer.concat([prefix, big]));
    await unu(
      'make',
      '-h',
      '-i',
      'skip.bin',
      '-t',
      'short',
      '-s',
      '5',
      '4',
      '3',
      '-en',
      'big',
      '-ls',
      '2',
      '-bs',
      '7',
      '-o',
      'skip.nhdr',
    );
    const teemValues = (await unu('save', '-f', 'nrrd', '-e', 'ascii', '-i', 'skip.nhdr')).split('\n\n')[1]!;
    assert.deepEqual(
      teemValues.trim().split(/\s+/).map(Number),
      valuesOf(typeCase),
      'teem reads the layout the same way',
    );
    const volume = await readNrrdVolume(at('skip.nhdr'));
    assert.deepEqual(Array.from(volume.data), valuesOf(typeCase));
  });

  it('applies byte skip to gzip data after inflating it, as teem does', async () => {
    const typeCase = TYPES[3]!; // uint16 little-endian
    const payload = Buffer.concat([Buffer.from('0123456789AB'), rawBytes(typeCase, valuesOf(typeCase))]);
    await writeFile(at('skip.gz'), gzipSync(payload));
    await unu(
      'make',
      '-h',
      '-i',
      'skip.gz',
      '-e',
      'gzip',
      '-t',
      'ushort',
      '-s',
      '5',
      '4',
      '3',
      '-en',
      'little',
      '-bs',
      '12',
      '-o',
      'skipgz.nhdr',
    );
    const teemValues = (await unu('save', '-f', 'nrrd', '-e', 'ascii', '-i', 'skipgz.nhdr')).split(
      '\n\n',
    )[1]!;
    assert.deepEqual(
      teemValues.trim().split(/\s+/).map(Number),
      valuesOf(typeCase),
      'teem reads the layout the same way',
    );
    const volume = await readNrrdVolume(at('skipgz.nhdr'));
    assert.deepEqual(Array.from(volume.data), valuesOf(typeCase));
  });

  it('drops the size-1 axis of a 4-D volume, wherever it is', async () => {
    const typeCase = TYPES[3]!;
    await unuMakeUshort('four-a.nrrd', [5, 1, 4, 3], ['space', 'none', 'space', 'space']);
    await unuMakeUshort('four-b.nrrd', [1, 5, 4, 3]);
    for (const name of ['four-a.nrrd', 'four-b.nrrd']) {
      const volume = await readNrrdVolume(at(name));
      assert.deepEqual(volume.sizes, SIZES);
      assert.deepEqual(Array.from(volume.data), valuesOf(typeCase));
    }
    assert.deepEqual((await readNrrdHeaderFile(at('four-a.nrrd'))).kinds, ['space', '???', 'space', 'space']);
  });

  it('refuses a 4-D volume without a size-1 axis', async () => {
    await unuMakeUshort('four-c.nrrd', [5, 2, 2, 3]);
    await rejectsWithDataLoss(readNrrdVolume(at('four-c.nrrd')), at('four-c.nrrd'), /5 2 2 3/);
  });

  it('drops the axis unu axinsert marks as a channel, not an earlier spatial axis of size 1', async () => {
    const typeCase = TYPES[3]!;
    // Spatial sizes 1 5 12 (a single slice), then a scalar axis inserted between the 5 and the 12: dropping
    // the first size-1 axis instead would give 5 1 12.
    await unuMakeUshort('slice.nrrd', [1, 5, 12], ['domain', 'domain', 'domain']);
    await unu('axinsert', '-i', 'slice.nrrd', '-a', '2', '-k', 'scalar', '-o', 'slice-scalar.nrrd');
    // Without -k, unu marks the new axis as a stub; on a file without kinds the others become ???.
    await unu('axinsert', '-i', 'slice.nrrd', '-a', '2', '-o', 'slice-stub.nrrd');
    await unuMakeUshort('slice-bare.nrrd', [1, 5, 12]);
    await unu('axinsert', '-i', 'slice-bare.nrrd', '-a', '2', '-k', 'scalar', '-o', 'slice-bare-scalar.nrrd');
    const expectedKinds: Record<string, string[]> = {
      'slice-scalar.nrrd': ['domain', 'domain', 'scalar', 'domain'],
      'slice-stub.nrrd': ['domain', 'domain', 'stub', 'domain'],
      'slice-bare-scalar.nrrd': ['???', '???', 'scalar', '???'],
    };
    for (const [name, kinds] of Object.entries(expectedKinds)) {
      const header = await readNrrdHeaderFile(at(name));
      assert.deepEqual([header.sizes, header.kinds], [[1, 5, 1, 12], kinds], `${name} as unu wrote it`);
      const volume = await readNrrdVolume(at(name));
      assert.deepEqual(volume.sizes, [1, 5, 12], name);
      assert.deepEqual(Array.from(volume.data), valuesOf(typeCase), name);
    }
  });

  it('refuses a 4-D volume with two size-1 axes and no kinds, saying to add kinds or write 3-D', async () => {
    await unuMakeUshort('two-ones.nrrd', [1, 5, 1, 12]);
    await rejectsWithDataLoss(
      readNrrdVolume(at('two-ones.nrrd')),
      at('two-ones.nrrd'),
      /sizes 1 5 1 12 has 2 axes of size 1 \(0, 2\).*kinds.*or write a 3-D file/,
    );
  });

  it('refuses a 4-D volume whose kinds leave no channel axis of size 1', async () => {
    const cases: Array<[string, number[], string[], RegExp]> = [
      [
        'all-spatial',
        [5, 1, 4, 3],
        ['domain', 'space', 'domain', 'time'],
        /no channel axis: every axis of size 1 is spatial/,
      ],
      [
        'rgb',
        [3, 5, 4, 1],
        ['RGB-color', 'domain', 'domain', 'domain'],
        /has 3 channels along axis 0 \(kind RGB-color\)/,
      ],
      [
        'two-channels',
        [1, 5, 1, 12],
        ['scalar', 'domain', 'stub', 'domain'],
        /marks 2 axes \(0, 2\) as non-spatial/,
      ],
    ];
    for (const [name, sizes, kinds, pattern] of cases) {
      const file = `${name}.nrrd`;
      await unuMakeUshort(file, sizes, kinds);
      await rejectsWithDataLoss(
        readNrrdVolume(at(file)),
        at(file),
        new RegExp(`sizes ${sizes.join(' ')} with kinds ${kinds.join(' ')}`),
      );
      await rejectsWithDataLoss(readNrrdVolume(at(file)), at(file), pattern);
    }
  });

  it('reports truncated gzip data as DATA_LOSS naming the file', async () => {
    const source = await readFile(at('float64-gzip-little.nrrd'));
    await writeFile(at('cut.nrrd'), source.subarray(0, source.length - 40));
    await rejectsWithDataLoss(
      readNrrdVolume(at('cut.nrrd')),
      at('cut.nrrd'),
      /gzip data is corrupt or truncated/,
    );
  });

  it('reports truncated raw data with the expected and found byte counts', async () => {
    const source = await readFile(at('float64-raw-little.nrrd'));
    await writeFile(at('cut-raw.nrrd'), source.subarray(0, source.length - 10));
    await rejectsWithDataLoss(
      readNrrdVolume(at('cut-raw.nrrd')),
      at('cut-raw.nrrd'),
      /expected 480 bytes of voxel data \(sizes 5 4 3, type float64\), found 470.*truncated or its header is wrong/,
    );
  });

  it('reports a header whose sizes disagree with the data, raw or gzip', async () => {
    for (const [encoding, sizes, found] of [
      ['raw', '5 4 4', /expected 640 bytes .* found 480/],
      ['gzip', '5 4 2', /expected 320 bytes .* found more than that/],
    ] as const) {
      const source = await readFile(at(`float64-${encoding}-big.nrrd`), 'latin1');
      const name = `sizes-${encoding}.nrrd`;
      await writeFile(at(name), Buffer.from(source.replace('sizes: 5 4 3', `sizes: ${sizes}`), 'latin1'));
      await rejectsWithDataLoss(readNrrdVolume(at(name)), at(name), found);
    }
  });

  it('fails fast, without allocating, on a header that claims far more voxels than the file holds', async () => {
    await unu(
      'make',
      '-h',
      '-i',
      'uint8.bin',
      '-t',
      'float',
      '-s',
      '10000',
      '10000',
      '10000',
      '-en',
      'little',
      '-o',
      'huge.nhdr',
    );
    await rejectsWithDataLoss(readNrrdVolume(at('huge.nhdr')), at('huge.nhdr'), /claims 4000000000000 bytes/);
    await writeFile(at('tiny.gz'), gzipSync(Buffer.alloc(100)));
    await unu(
      'make',
      '-h',
      '-i',
      'tiny.gz',
      '-e',
      'gzip',
      '-t',
      'uchar',
      '-s',
      '1000',
      '1000',
      '1000',
      '-o',
      'bomb.nhdr',
    );
    await rejectsWithDataLoss(readNrrdVolume(at('bomb.nhdr')), at('bomb.nhdr'), /too few to inflate/);
  });

  it('refuses bzip2 data, saying which encodings it reads', async () => {
    await unu('save', '-f', 'nrrd', '-e', 'bzip2', '-i', 'int16-base.nrrd', '-o', 'bz.nrrd');
    await rejectsWithDataLoss(
      readNrrdVolume(at('bz.nrrd')),
      at('bz.nrrd'),
      /encoding "bzip2" is not supported; voxelfeed reads raw, gzip/,
    );
  });

  it('refuses a file without the NRRD magic', async () => {
    const source = await readFile(at('int16-raw-little.nrrd'));
    const broken = Buffer.from(source);
    broken.write('MRRD', 0, 'latin1');
    await writeFile(at('magic.nrrd'), broken);
    await rejectsWithDataLoss(
      readNrrdVolume(at('magic.nrrd')),
      at('magic.nrrd'),
      /does not start with the magic NRRD000x/,
    );
  });

  it('reports a missing file as DATA_LOSS naming it', async () => {
    await rejectsWithDataLoss(readNrrdVolume(at('absent.nrrd')), at('absent.nrrd'), /cannot open/);
  });

  it('refuses 64-bit integer volumes with a fix', async () => {
    await unu(
      'make',
      '-h',
      '-i',
      'float64.bin',
      '-t',
      'longlong',
      '-s',
      '5',
      '4',
      '3',
      '-en',
      'little',
      '-o',
      'long.nhdr',
    );
    await rejectsWithDataLoss(
      readNrrdVolume(at('long.nhdr')),
      at('long.nhdr'),
      /int64.*not supported.*unu convert/,
    );
  });
});

describe('readNrrdHeaderFile', () => {
  it('reads only the header of a large attached volume', async () => {
    const typeCase = TYPES[1]!;
    await writeFile(at('large.bin'), new Uint8Array(8 << 20).fill(0xa5));
    await unu(
      'make',
      '-i',
      'large.bin',
      '-t',
      typeCase.teemName,
      '-s',
      '256',
      '256',
      '128',
      '-o',
      'large.nrrd',
    );
    // Count every byte read through a FileHandle while the header is read.
    const probe = await open(at('large.nrrd'), 'r');
    const prototype = Object.getPrototypeOf(probe) as {
      read: (...args: unknown[]) => Promise<{ bytesRead: number }>;
    };
    await probe.close();
    const original = prototype.read;
    let bytesRead = 0;
    prototype.read = async function (this: unknown, ...args: unknown[]) {
      const result = await original.apply(this, args);
      bytesRead += result.bytesRead;
      return result;
    };
    try {
      const header = await readNrrdHeaderFile(at('large.nrrd'));
      assert.deepEqual(header.sizes, [256, 256, 128]);
      assert.equal(header.dataFile, null);
      const text = (await readFile(at('large.nrrd'))).subarray(0, header.headerBytes).toString('latin1');
      assert.ok(text.endsWith('\n\n'), 'headerBytes ends just past the blank line');
    } finally {
      prototype.read = original;
    }
    assert.ok(bytesRead > 0 && bytesRead <= 8192, `read ${bytesRead} bytes of an 8 MiB file for its header`);
  });

  it('reads a detached header whose data file does not exist', async () => {
    await unu(
      'make',
      '-h',
      '-i',
      'nowhere.raw',
      '-t',
      'short',
      '-s',
      '7',
      '8',
      '9',
      '-en',
      'big',
      '-o',
      'orphan.nhdr',
    );
    const header = await readNrrdHeaderFile(at('orphan.nhdr'));
    assert.deepEqual(header.sizes, [7, 8, 9]);
    assert.equal(header.type, 'int16');
    assert.equal(header.endian, 'big');
    assert.equal(header.dataFile, at('nowhere.raw'));
  });

  it('gives up after 1 MiB without a blank line', async () => {
    await writeFile(
      at('endless.nrrd'),
      `NRRD0004\n${'# a comment that never ends the header\n'.repeat(40000)}`,
    );
    await rejectsWithDataLoss(
      readNrrdHeaderFile(at('endless.nrrd')),
      at('endless.nrrd'),
      /within the first 1048576 bytes/,
    );
  });
});

describe('parseNrrdHeader', () => {
  const parse = (text: string) => parseNrrdHeader(new TextEncoder().encode(text), '/data/x.nrrd');

  it('reads spacings, space directions and kinds, and skips comments and key/value pairs', () => {
    const text =
      'NRRD0005\r\n# comment\r\ntype: unsigned short\r\ndimension: 3\r\nspace: left-posterior-superior\r\n' +
      'sizes: 3 4 5\r\nspace directions: (0.7,0,0) (0, 0.7, 0) (0,0,2.5)\r\nkinds: domain domain domain\r\n' +
      'spacings: 1 nan 2.5\r\nendian: big\r\nencoding: gz\r\nseries:=a: b\r\n\r\n\u0001\u0002';
    const header = parse(text);
    assert.equal(header.type, 'uint16');
    assert.equal(header.encoding, 'gzip');
    assert.deepEqual(header.spaceDirections, [
      [0.7, 0, 0],
      [0, 0.7, 0],
      [0, 0, 2.5],
    ]);
    assert.deepEqual(header.kinds, ['domain', 'domain', 'domain']);
    assert.deepEqual(header.spacings, [1, Number.NaN, 2.5]);
    assert.equal(header.dataFile, null);
    assert.equal(header.headerBytes, text.length - 2, 'attached data starts after the CRLF blank line');
  });

  it('keeps key/value pairs apart from the fields, the value being everything after the first :=', () => {
    const header = parse(
      'NRRD0004\ntype: uchar\nsizes: 2 2 2\nvoxelfeed_kind:=probability\nencoding: raw\n' +
        'note:=a: b:=c\nsizes of things:=3\n\n',
    );
    assert.deepEqual(
      [...header.keyValues],
      [
        ['voxelfeed_kind', 'probability'],
        ['note', 'a: b:=c'],
        ['sizes of things', '3'],
      ],
    );
    assert.deepEqual(header.sizes, [2, 2, 2]);
  });

  for (const [problem, text, pattern] of [
    ['no sizes', 'NRRD0004\ntype: uchar\nencoding: raw\n\n', /no "sizes:" field/],
    ['no type', 'NRRD0004\nsizes: 2 2 2\nencoding: raw\n\n', /no "type:" field/],
    ['no encoding', 'NRRD0004\ntype: uchar\nsizes: 2 2 2\n\n', /no "encoding:" field/],
    ['hex encoding', 'NRRD0004\ntype: uchar\nsizes: 2 2 2\nencoding: hex\n\n', /"hex" is not supported/],
    [
      'sizes that disagree with dimension',
      'NRRD0004\ntype: uchar\ndimension: 3\nsizes: 2 2\nencoding: raw\n\n',
      /2 values but "dimension: 3"/,
    ],
    ['a zero size', 'NRRD0004\ntype: uchar\nsizes: 2 0 2\nencoding: raw\n\n', /size 0/],
    [
      'no endian for 16-bit data',
      'NRRD0004\ntype: short\nsizes: 2 2 2\nencoding: raw\n\n',
      /no "endian:" field/,
    ],
    [
      'five dimensions',
      'NRRD0004\ntype: uchar\nsizes: 2 2 2 1 1\nencoding: raw\n\n',
      /dimension 5 is not supported/,
    ],
    [
      'a LIST data file',
      'NRRD0004\ntype: uchar\nsizes: 2 2 2\nencoding: raw\ndata file: LIST\na.raw\n',
      /LIST/,
    ],
    [
      'numbered data files',
      'NRRD0004\ntype: uchar\nsizes: 2 2 2\nencoding: raw\ndata file: s%03d.raw 1 2 1\n',
      /numbered files/,
    ],
    [
      'no blank line and no data file',
      'NRRD0004\ntype: uchar\nsizes: 2 2 2\nencoding: raw\n',
      /no blank line/,
    ],
  ] as const) {
    it(`refuses a header with ${problem}, naming the file`, () => {
      assert.throws(
        () => parse(text),
        (error: unknown) =>
          isVoxelfeedError(error) &&
          error.code === 'DATA_LOSS' &&
          error.message.startsWith('/data/x.nrrd: ') &&
          pattern.test(error.message),
      );
    });
  }
});
