import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VoxelfeedError } from '../../../server/errors.js';
import type { Shape3 } from '../../../server/sampling/types.js';
import { generatePhantom } from '../../../server/synth/phantom-volume.js';
import { seriesUid } from '../../../server/synth/series-uid.js';
import {
  PHANTOM_MANIFEST_NAME,
  type PhantomDatasetSummary,
  writePhantomDataset,
} from '../../../server/synth/write-phantom-dataset.js';

const run = promisify(execFile);

const SHAPE: Shape3 = [16, 32, 32];
const SEED = 5n;
const SERIES = 3;

/** teem-unu's decoding of an NRRD file: the voxel bytes after the header of its raw re-save. */
async function voxelsByTeem(
  file: string,
  scratch: string,
): Promise<{ sizes: string; type: string; data: Buffer }> {
  const out = path.join(scratch, `${path.basename(file)}.raw.nrrd`);
  await run('teem-unu', ['save', '-f', 'nrrd', '-e', 'raw', '-i', file, '-o', out]);
  const bytes = await readFile(out);
  const end = bytes.indexOf('\n\n');
  const header = bytes.subarray(0, end).toString('latin1');
  return {
    sizes: /^sizes: (.*)$/m.exec(header)?.[1] ?? '',
    type: /^type: (.*)$/m.exec(header)?.[1] ?? '',
    data: bytes.subarray(end + 2),
  };
}

async function boxesByNumpy(file: string): Promise<{ shape: number[]; dtype: string; values: number[][] }> {
  const script = `import json, sys, numpy as np
a = np.load(sys.argv[1], allow_pickle=False)
print(json.dumps({"shape": list(a.shape), "dtype": a.dtype.str, "values": a.tolist()}))`;
  const { stdout } = await run('python3', ['-c', script, file]);
  return JSON.parse(stdout);
}

describe('writePhantomDataset', () => {
  let root = '';
  let dir = '';
  let summary: PhantomDatasetSummary;
  const progress: [number, number][] = [];

  before(async () => {
    try {
      await run('teem-unu', ['about']);
    } catch (error) {
      assert.fail(
        `teem-unu is needed to read the NRRD files independently; apt-get install teem-apps (${error})`,
      );
    }
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-synth-'));
    dir = path.join(root, 'phantom');
    summary = await writePhantomDataset(dir, {
      series: SERIES,
      shape: SHAPE,
      seed: SEED,
      onSeries: (done, total) => progress.push([done, total]),
    });
  });
  after(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('writes three files per series under the LUNA16 names, a manifest, and no temporary file', async () => {
    const expected = [PHANTOM_MANIFEST_NAME];
    for (let index = 0; index < SERIES; index++) {
      const uid = seriesUid(SEED, index);
      expected.push(`${uid}_clean.nrrd`, `${uid}_mask.nrrd`, `${uid}_bboxes.npy`);
    }
    assert.deepEqual((await readdir(dir)).sort(), expected.sort());
  });

  it('reports each series as it is done and sums nodules and bytes', async () => {
    assert.deepEqual(progress, [
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    let bytes = 0;
    for (const name of await readdir(dir)) bytes += (await stat(path.join(dir, name))).size;
    const nodules = [0, 1, 2].reduce(
      (sum, index) => sum + generatePhantom({ shape: SHAPE, seed: SEED, seriesIndex: index }).nodules.length,
      0,
    );
    assert.deepEqual(summary, { series: 3, nodules, bytes, dir });
  });

  it('writes gzip NRRDs that teem-unu decodes to the phantom image and mask', async () => {
    for (let index = 0; index < SERIES; index++) {
      const uid = seriesUid(SEED, index);
      const phantom = generatePhantom({ shape: SHAPE, seed: SEED, seriesIndex: index });
      const head = await run('teem-unu', ['head', path.join(dir, `${uid}_clean.nrrd`)]);
      assert.match(head.stdout, /^encoding: gzip$/m);
      const image = await voxelsByTeem(path.join(dir, `${uid}_clean.nrrd`), root);
      const mask = await voxelsByTeem(path.join(dir, `${uid}_mask.nrrd`), root);
      for (const read of [image, mask]) {
        assert.equal(read.sizes, '16 32 32');
        assert.equal(read.type, 'unsigned char');
      }
      assert.deepEqual(image.data, Buffer.from(phantom.image));
      assert.deepEqual(mask.data, Buffer.from(phantom.mask));
    }
  });

  it('writes (N, 4) float32 boxes that numpy reads as the nodules, (0, 4) when there are none', async () => {
    let empty = 0;
    for (let index = 0; index < SERIES; index++) {
      const uid = seriesUid(SEED, index);
      const { nodules } = generatePhantom({ shape: SHAPE, seed: SEED, seriesIndex: index });
      const boxes = await boxesByNumpy(path.join(dir, `${uid}_bboxes.npy`));
      assert.deepEqual(boxes, {
        shape: [nodules.length, 4],
        dtype: '<f4',
        values: nodules.map((n) => [...n.center, n.diameter]),
      });
      if (nodules.length === 0) empty += 1;
    }
    assert.ok(empty >= 1, 'series 2 of 3 is a negative');
  });

  it('describes the options and the files in the manifest', async () => {
    const manifest = JSON.parse(await readFile(path.join(dir, PHANTOM_MANIFEST_NAME), 'utf8'));
    assert.equal(manifest.seed, '5');
    assert.deepEqual(manifest.shape, SHAPE);
    assert.equal(manifest.series, 3);
    assert.equal(manifest.files.length, 3);
    assert.equal(manifest.files[1].image, `${seriesUid(SEED, 1)}_clean.nrrd`);
  });

  it('writes the same bytes again for the same options', async () => {
    const again = path.join(root, 'again');
    await writePhantomDataset(again, { series: SERIES, shape: SHAPE, seed: SEED });
    for (const name of await readdir(dir)) {
      assert.deepEqual(await readFile(path.join(again, name)), await readFile(path.join(dir, name)), name);
    }
  });

  it('leaves no temporary file and no manifest when a write fails', async () => {
    const broken = path.join(root, 'broken');
    // A folder under the final name of series 1's boxes makes its rename fail.
    await mkdir(path.join(broken, `${seriesUid(SEED, 1)}_bboxes.npy`), { recursive: true });
    await assert.rejects(writePhantomDataset(broken, { series: SERIES, shape: SHAPE, seed: SEED }));
    const names = await readdir(broken);
    assert.deepEqual(
      names.filter((name) => name.endsWith('.tmp') || name === PHANTOM_MANIFEST_NAME),
      [],
    );
  });

  it('rejects a bad series count or shape before creating the folder', async () => {
    const target = path.join(root, 'never');
    for (const options of [
      { series: 0, shape: SHAPE, seed: 0n },
      { series: 2, shape: [8, 32, 32] as Shape3, seed: 0n },
    ]) {
      await assert.rejects(
        writePhantomDataset(target, options),
        (error: unknown) => error instanceof VoxelfeedError && error.code === 'INVALID_ARGUMENT',
      );
    }
    await assert.rejects(stat(target), { code: 'ENOENT' });
  });
});
