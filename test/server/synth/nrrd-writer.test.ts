import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VoxelfeedError } from '../../../server/errors.js';
import {
  encodeNrrd,
  encodeNrrdHeader,
  type NrrdData,
  type NrrdWriteType,
} from '../../../server/synth/nrrd-writer.js';

const run = promisify(execFile);

/** teem names the types its own way when it writes a header. */
const TEEM_TYPE: Record<NrrdWriteType, string> = { uint8: 'unsigned char', int16: 'short', float32: 'float' };

async function requireTeem(): Promise<void> {
  try {
    await run('teem-unu', ['about']);
  } catch (error) {
    assert.fail(`teem-unu is needed to check NRRD files independently; apt-get install teem-apps (${error})`);
  }
}

/**
 * Has teem-unu re-save `file` as raw NRRD, then splits teem's own output into its header fields and data
 * bytes: both are teem's reading of our file, not ours.
 */
async function readWithTeem(file: string): Promise<{ fields: Map<string, string>; data: Buffer }> {
  const out = `${file}.teem.nrrd`;
  await run('teem-unu', ['save', '-f', 'nrrd', '-e', 'raw', '-i', file, '-o', out]);
  const bytes = await readFile(out);
  const end = bytes.indexOf('\n\n');
  assert.ok(end > 0, 'teem output has a header');
  const fields = new Map<string, string>();
  for (const line of bytes.subarray(0, end).toString('latin1').split('\n')) {
    const colon = line.indexOf(': ');
    if (!line.startsWith('#') && colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
  }
  return { fields, data: bytes.subarray(end + 2) };
}

function bytesOf(data: NrrdData): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

const SIZES = [5, 3, 4] as const;
const COUNT = SIZES[0] * SIZES[1] * SIZES[2];

function sampleData(type: NrrdWriteType): NrrdData {
  if (type === 'uint8') return Uint8Array.from({ length: COUNT }, (_, i) => (i * 37) % 256);
  if (type === 'int16') return Int16Array.from({ length: COUNT }, (_, i) => (i - 30) * 997);
  return Float32Array.from({ length: COUNT }, (_, i) => (i - 20) * 0.375 + 1e-3);
}

describe('encodeNrrd', () => {
  let dir = '';
  before(async () => {
    await requireTeem();
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-nrrd-writer-'));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  for (const type of ['uint8', 'int16', 'float32'] as const) {
    for (const encoding of ['raw', 'gzip'] as const) {
      it(`writes ${type} ${encoding} files that teem-unu reads back to the same voxels`, async () => {
        const data = sampleData(type);
        const file = path.join(dir, `${type}-${encoding}.nrrd`);
        await writeFile(file, await encodeNrrd({ sizes: SIZES, type, data, encoding }));
        const { fields, data: read } = await readWithTeem(file);
        assert.equal(fields.get('type'), TEEM_TYPE[type]);
        assert.equal(fields.get('dimension'), '3');
        assert.equal(fields.get('sizes'), '5 3 4');
        if (type !== 'uint8') assert.equal(fields.get('endian'), 'little');
        assert.deepEqual(read, bytesOf(data));
      });
    }
  }

  it('shows the type, sizes and encoding in teem-unu head', async () => {
    const file = path.join(dir, 'head.nrrd');
    await writeFile(
      file,
      await encodeNrrd({
        sizes: SIZES,
        type: 'uint8',
        data: sampleData('uint8'),
        encoding: 'gzip',
        gzipLevel: 1,
      }),
    );
    const { stdout } = await run('teem-unu', ['head', file]);
    assert.match(stdout, /^type: uint8$/m);
    assert.match(stdout, /^sizes: 5 3 4$/m);
    assert.match(stdout, /^encoding: gzip$/m);
  });

  it('keeps spacings, kinds and content, as teem-unu reads them', async () => {
    const file = path.join(dir, 'meta.nrrd');
    const bytes = await encodeNrrd({
      sizes: SIZES,
      type: 'uint8',
      data: sampleData('uint8'),
      encoding: 'raw',
      spacings: [0.5, 1, 2.5],
      kinds: ['domain', 'domain', 'domain'],
      content: 'phantom image',
    });
    await writeFile(file, bytes);
    const { fields } = await readWithTeem(file);
    assert.equal(fields.get('spacings'), '0.5 1 2.5');
    assert.equal(fields.get('kinds'), 'domain domain domain');
    assert.equal(fields.get('content'), 'phantom image');
  });

  it('compresses a constant volume with gzip to a small fraction of its raw size', async () => {
    const data = new Uint8Array(64 * 64 * 64);
    const raw = await encodeNrrd({ sizes: [64, 64, 64], type: 'uint8', data, encoding: 'raw' });
    const gzip = await encodeNrrd({ sizes: [64, 64, 64], type: 'uint8', data, encoding: 'gzip' });
    assert.ok(gzip.length * 50 < raw.length, `gzip ${gzip.length} bytes vs raw ${raw.length}`);
  });

  const invalid: { name: string; options: Parameters<typeof encodeNrrd>[0]; pattern: RegExp }[] = [
    {
      name: 'data of the wrong length',
      options: { sizes: [2, 2, 2], type: 'uint8', data: new Uint8Array(7), encoding: 'raw' },
      pattern: /holds 7 voxels but sizes 2 2 2 need 8/,
    },
    {
      name: 'data of the wrong array type',
      options: { sizes: [2], type: 'int16', data: new Uint8Array(2), encoding: 'raw' },
      pattern: /int16 needs its data as a Int16Array, got a Uint8Array/,
    },
    {
      name: 'a size of 0',
      options: { sizes: [2, 0], type: 'uint8', data: new Uint8Array(0), encoding: 'raw' },
      pattern: /sizes 2 0: every size must be an integer >= 1/,
    },
    {
      name: 'spacings for the wrong number of axes',
      options: { sizes: [2, 2], type: 'uint8', data: new Uint8Array(4), encoding: 'raw', spacings: [1] },
      pattern: /spacings has 1 values for 2 axes/,
    },
    {
      name: 'a content with a line break',
      options: {
        sizes: [1],
        type: 'uint8',
        data: new Uint8Array(1),
        encoding: 'raw',
        content: 'a\nencoding: raw',
      },
      pattern: /content .* holds a line break/,
    },
    {
      name: 'a gzip level past 9',
      options: { sizes: [1], type: 'uint8', data: new Uint8Array(1), encoding: 'gzip', gzipLevel: 12 },
      pattern: /gzip level 12 is outside 0..9/,
    },
  ];
  for (const { name, options, pattern } of invalid) {
    it(`rejects ${name} with INVALID_ARGUMENT`, async () => {
      await assert.rejects(
        encodeNrrd(options),
        (error: unknown) =>
          error instanceof VoxelfeedError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message),
      );
    });
  }
});

describe('encodeNrrdHeader', () => {
  it('ends with a blank line and writes endian only for multi-byte types', () => {
    const uint8 = encodeNrrdHeader({ sizes: [4, 4], type: 'uint8', encoding: 'raw' });
    const float = encodeNrrdHeader({ sizes: [4, 4], type: 'float32', encoding: 'gzip' });
    assert.ok(uint8.startsWith('NRRD0004\n'));
    assert.ok(uint8.endsWith('\n\n'));
    assert.doesNotMatch(uint8, /endian/);
    assert.match(float, /^endian: little$/m);
    assert.match(float, /^dimension: 2$/m);
  });
});
