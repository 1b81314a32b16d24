import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { isFeedError } from '../../client/feed-error.js';
import { NrrdSlabWriter, type NrrdSlabWriterOptions } from '../../client/nrrd-slab-writer.js';
import type { Shape3 } from '../../client/shape3.js';
import { TileMerger } from '../../client/tile-merger.js';
import { cutTiles, identityPrediction, seededBytes } from '../support/identity-tiles.js';

const run = promisify(execFile);
/** Debian's python3, which has python3-numpy. */
const PYTHON = '/usr/bin/python3';

/**
 * An NRRD reader in numpy, independent of ours: the header up to the blank line, the body inflated by zlib
 * when gzip, the bytes read as pynrrd does with its default index_order='F' (axis 0 fastest in the file, first
 * in the array). Prints the array's shape, key/value lines, spacings and its bytes in C order as hex.
 */
const NUMPY_READER = `
import json, sys, zlib
import numpy as np
data = open(sys.argv[1], 'rb').read()
end = data.index(b'\\n\\n')
fields, keys = {}, {}
for line in data[:end].decode('latin1').split('\\n')[1:]:
    if line.startswith('#'):
        continue
    if ':=' in line:
        k, v = line.split(':=', 1)
        keys[k] = v
    else:
        k, v = line.split(': ', 1)
        fields[k] = v
body = data[end + 2:]
if fields['encoding'] == 'gzip':
    body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
assert fields['type'] in ('uint8', 'unsigned char'), fields['type']
sizes = [int(s) for s in fields['sizes'].split()]
a = np.frombuffer(body, dtype=np.uint8).reshape(sizes[::-1]).transpose()
print(json.dumps({'shape': list(a.shape), 'keys': keys, 'spacings': fields.get('spacings'),
                  'hex': np.ascontiguousarray(a).tobytes().hex()}))
`;

interface NumpyRead {
  shape: number[];
  keys: Record<string, string>;
  spacings: string | null;
  bytes: Buffer;
}

async function readWithNumpy(file: string): Promise<NumpyRead> {
  const { stdout } = await run(PYTHON, ['-c', NUMPY_READER, file], { maxBuffer: 64 << 20 });
  const parsed = JSON.parse(stdout) as Omit<NumpyRead, 'bytes'> & { hex: string };
  return { ...parsed, bytes: Buffer.from(parsed.hex, 'hex') };
}

/** teem-unu's decoding: the voxel bytes (NRRD file order) and header of its raw re-save. */
async function readWithTeem(file: string): Promise<{ fields: Map<string, string>; data: Buffer }> {
  const out = `${file}.teem.nrrd`;
  await run('teem-unu', ['save', '-f', 'nrrd', '-e', 'raw', '-i', file, '-o', out]);
  const bytes = await readFile(out);
  await rm(out);
  const end = bytes.indexOf('\n\n');
  const fields = new Map<string, string>();
  for (const line of bytes.subarray(0, end).toString('latin1').split('\n')) {
    const colon = line.indexOf(': ');
    if (!line.startsWith('#') && colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 2));
  }
  return { fields, data: bytes.subarray(end + 2) };
}

/** A C-order volume (axis 0 slowest) in NRRD file order (axis 0 fastest): the full transpose. */
function toFileOrder(volume: Uint8Array, shape: Shape3): Buffer {
  const [v0, v1, v2] = shape;
  const out = Buffer.alloc(volume.length);
  for (let i = 0; i < v0; i++) {
    for (let j = 0; j < v1; j++) {
      for (let k = 0; k < v2; k++) out[i + v0 * (j + v1 * k)] = volume[(i * v1 + j) * v2 + k]!;
    }
  }
  return out;
}

/** Merges the identity model's tiles of `volume` straight into an NRRD file. */
async function mergeToNrrd(
  volume: Uint8Array,
  shape: Shape3,
  tile: Shape3,
  options: Omit<NrrdSlabWriterOptions, 'volumeShape'>,
): Promise<NrrdSlabWriter> {
  const writer = await NrrdSlabWriter.create({ ...options, volumeShape: shape });
  const merger = new TileMerger({ volumeShape: shape, tileShape: tile, sink: writer.write });
  for (const { origin, image } of cutTiles(volume, shape, tile, 0.5)) {
    await merger.add(origin, identityPrediction(image));
  }
  await merger.finish();
  await writer.close();
  return writer;
}

describe('NrrdSlabWriter', () => {
  let dir = '';
  const shape: Shape3 = [13, 20, 17];
  const tile: Shape3 = [4, 8, 6];
  const volume = seededBytes(shape[0] * shape[1] * shape[2], 77);

  before(async () => {
    try {
      await run('teem-unu', ['about']);
      await run(PYTHON, ['-c', 'import numpy']);
    } catch (error) {
      assert.fail(
        `teem-unu and ${PYTHON} with numpy read the files back; apt-get install teem-apps python3-numpy (${error})`,
      );
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-nrrd-slab-writer-'));
  });
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  for (const encoding of ['gzip', 'raw'] as const) {
    it(`writes a ${encoding} probability file that teem-unu and numpy read as the input's array`, async () => {
      const file = path.join(dir, `series-${encoding}_pred.nrrd`);
      await mergeToNrrd(volume, shape, tile, {
        path: file,
        encoding,
        spacing: [0.703125, 0.703125, 2.5],
        seriesUid: '1.3.6.1.4.1.14519.5.2.1.6279',
      });
      // The identity model predicts volume / 255, written back as round(255 p): the volume's own bytes.
      const teem = await readWithTeem(file);
      assert.equal(teem.fields.get('type'), 'unsigned char');
      assert.equal(teem.fields.get('dimension'), '3');
      assert.equal(teem.fields.get('sizes'), '13 20 17');
      assert.equal(teem.fields.get('spacings'), '0.703125 0.703125 2.5');
      assert.ok(teem.data.equals(toFileOrder(volume, shape)), 'teem-unu read other voxels');

      const numpy = await readWithNumpy(file);
      assert.deepEqual(numpy.shape, [13, 20, 17]);
      assert.ok(numpy.bytes.equals(Buffer.from(volume)), 'numpy read other voxels');
      assert.deepEqual(numpy.keys, {
        voxelfeed_kind: 'probability',
        voxelfeed_series: '1.3.6.1.4.1.14519.5.2.1.6279',
      });
      assert.equal(numpy.spacings, '0.703125 0.703125 2.5');

      const { stdout } = await run('teem-unu', ['head', file]);
      assert.match(stdout, new RegExp(`^encoding: ${encoding}$`, 'm'));
      assert.match(stdout, /^type: uint8$/m);
    });
  }

  it('gives the same file with a transpose budget of a few columns (many blocks)', async () => {
    const small = path.join(dir, 'small-budget.nrrd');
    const large = path.join(dir, 'large-budget.nrrd');
    const writer = await mergeToNrrd(volume, shape, tile, { path: small, transposeBudgetBytes: 60 });
    await mergeToNrrd(volume, shape, tile, { path: large });
    assert.ok((await readFile(small)).equals(await readFile(large)));
    assert.ok((await readWithTeem(small)).data.equals(toFileOrder(volume, shape)));
    // One column of 13 voxels and its reads at most: the largest slab's uint8 copy dominates.
    assert.ok(writer.peakBytes <= 4 * 20 * 17, `peak ${writer.peakBytes}`);
  });

  it('writes a thresholded mask of 0 and 1 where p >= t', async () => {
    const file = path.join(dir, 'mask.nrrd');
    await mergeToNrrd(volume, shape, tile, { path: file, threshold: 0.5, encoding: 'raw' });
    const numpy = await readWithNumpy(file);
    const expected = Buffer.from(volume.map((v) => (v / 255 >= 0.5 ? 1 : 0)));
    assert.ok(numpy.bytes.equals(expected));
    assert.ok(expected.includes(0) && expected.includes(1));
    assert.deepEqual(numpy.keys, { voxelfeed_kind: 'mask', voxelfeed_threshold: '0.5' });
    assert.equal(numpy.spacings, null);
  });

  it('leaves only the NRRD file in the folder, and keeps its memory to the budget as the volume grows', async () => {
    const sub = await mkdtemp(path.join(dir, 'clean-'));
    const peaks: number[] = [];
    for (const v0 of [32, 128]) {
      const big: Shape3 = [v0, 40, 48];
      const bigVolume = seededBytes(v0 * 40 * 48, v0);
      const file = path.join(sub, `v${v0}.nrrd`);
      const writer = await mergeToNrrd(bigVolume, big, [8, 16, 16], {
        path: file,
        transposeBudgetBytes: 16 << 10,
      });
      peaks.push(writer.peakBytes);
      assert.ok((await readWithNumpy(file)).bytes.equals(Buffer.from(bigVolume)));
    }
    assert.deepEqual((await readdir(sub)).sort(), ['v128.nrrd', 'v32.nrrd']);
    // The largest uint8 slab (8 rows of 40 x 48) or the 16 KiB budget, whichever is larger.
    assert.ok(
      peaks.every((peak) => peak <= Math.max(8 * 40 * 48, 16 << 10)),
      `peaks ${peaks.join(', ')}`,
    );
  });

  it('removes its temporary files and leaves an existing file untouched when rows are missing', async () => {
    const sub = await mkdtemp(path.join(dir, 'missing-'));
    const file = path.join(sub, 'pred.nrrd');
    await writeFile(file, 'previous');
    const writer = await NrrdSlabWriter.create({ path: file, volumeShape: [4, 2, 2] });
    await writer.write({ start: 0, rowCount: 2, values: new Float32Array(8) });
    assert.equal((await readdir(sub)).length, 2, 'the spool is beside the output while writing');
    await assert.rejects(
      writer.close(),
      (error: unknown) =>
        isFeedError(error) && /only 2 of 4 rows were written; finish the merger/.test(error.message),
    );
    assert.deepEqual(await readdir(sub), ['pred.nrrd']);
    assert.equal(await readFile(file, 'utf8'), 'previous');
  });

  it('removes its temporary files on abort', async () => {
    const sub = await mkdtemp(path.join(dir, 'abort-'));
    const writer = await NrrdSlabWriter.create({ path: path.join(sub, 'pred.nrrd'), volumeShape: [4, 2, 2] });
    await writer.write({ start: 0, rowCount: 4, values: new Float32Array(16) });
    await writer.abort();
    await writer.abort();
    assert.deepEqual(await readdir(sub), []);
    await assert.rejects(writer.close(), /close after the writer of .* was failed; create a new writer/);
  });

  it('refuses slabs out of order or of the wrong length, naming them', async () => {
    const sub = await mkdtemp(path.join(dir, 'order-'));
    const make = () => NrrdSlabWriter.create({ path: path.join(sub, 'pred.nrrd'), volumeShape: [4, 2, 2] });
    const first = await make();
    await assert.rejects(
      first.write({ start: 1, rowCount: 1, values: new Float32Array(4) }),
      /slab of rows \[1, 2\) does not follow the 0 rows written of 4; hand the slabs in order/,
    );
    const second = await make();
    await assert.rejects(
      second.write({ start: 0, rowCount: 2, values: new Float32Array(5) }),
      /slab of 2 rows holds 5 values; a volume of shape \[4, 2, 2\] needs 8/,
    );
    assert.deepEqual(await readdir(sub), []);
  });

  it('refuses bad options, all at once, in one line', async () => {
    await assert.rejects(
      NrrdSlabWriter.create({
        path: path.join(dir, 'x.nrrd'),
        volumeShape: [4, 4, 4],
        threshold: 1.5,
        encoding: 'bzip2' as never,
        gzipLevel: 12,
        spacing: [1, 1],
        seriesUid: 'a\nencoding: raw',
      }),
      (error: unknown) => {
        assert.ok(isFeedError(error) && error.code === 'INVALID_ARGUMENT');
        for (const part of [
          /threshold is 1.5; give a probability 0 < t <= 1/,
          /encoding is "bzip2"; use 'gzip' or 'raw'/,
          /gzip level is 12; use 0..9/,
          /spacing is \[1, 1\]; give 3 finite values > 0/,
          /series uid "a\\nencoding: raw" holds a line break/,
        ]) {
          assert.match(error.message, part);
        }
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );
    await assert.rejects(
      NrrdSlabWriter.create({ path: path.join(dir, 'no-such-folder', 'x.nrrd'), volumeShape: [4, 4, 4] }),
      /cannot create a file beside .*no-such-folder.*check that the folder exists and is writable/,
    );
  });
});
