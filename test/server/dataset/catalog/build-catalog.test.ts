import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, open, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildCatalog } from '../../../../server/dataset/catalog/build-catalog.js';
import type { Catalog } from '../../../../server/dataset/catalog/catalog.js';
import { loadCatalogVolume } from '../../../../server/dataset/loading/load-catalog-volume.js';
import { isVoxelfeedError, type VoxelfeedErrorCode } from '../../../../server/errors.js';
import type { Nodule, Shape3 } from '../../../../server/sampling/types.js';
import {
  PHANTOM_MANIFEST_NAME,
  writePhantomDataset,
} from '../../../../server/synth/write-phantom-dataset.js';

/*
 * Fixtures: phantom data sets from writePhantomDataset, then copies broken on purpose. Files of another
 * shape and detached headers come from teem's `unu` (Debian teem-apps), odd .npy files from numpy, so the
 * catalog is never checked against files written by its own readers' assumptions. Expected shapes and
 * nodules come from the synth manifest (voxelfeed-synth.json), which the catalog never reads.
 */

const run = promisify(execFile);
const SHAPE: Shape3 = [16, 32, 32];
const VOXELS = SHAPE[0] * SHAPE[1] * SHAPE[2];

interface SynthEntry {
  readonly uid: string;
  readonly image: string;
  readonly mask: string;
  readonly boxes: string;
  readonly nodules: Nodule[];
}

async function synthEntries(dir: string): Promise<SynthEntry[]> {
  const manifest = JSON.parse(await readFile(path.join(dir, PHANTOM_MANIFEST_NAME), 'utf8'));
  return manifest.files as SynthEntry[];
}

/** Writes .npy files with numpy: float32 rows, or an object array (a pickle, as np.save writes one). */
async function numpySave(files: ReadonlyArray<{ file: string; rows?: number[][]; pickle?: boolean }>) {
  const script = `import json, sys, numpy as np
for spec in json.loads(sys.argv[1]):
    if spec.get("pickle"):
        np.save(spec["file"], np.array([{"center": [1, 2, 3]}, None], dtype=object), allow_pickle=True)
    else:
        np.save(spec["file"], np.asarray(spec["rows"], dtype=np.float32).reshape(-1, 4))`;
  await run('python3', ['-c', script, JSON.stringify(files)]);
}

async function expectError(call: Promise<unknown>, code: VoxelfeedErrorCode, fragments: readonly string[]) {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(isVoxelfeedError(error), `expected a VoxelfeedError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments) {
      assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    }
    return true;
  });
}

function reasonOf(catalog: Catalog, uid: string): string {
  const found = catalog.skipped.filter((entry) => entry.uid === uid);
  assert.equal(found.length, 1, `expected ${uid} once in skipped, got ${JSON.stringify(catalog.skipped)}`);
  return found[0]!.reason;
}

function assertMentions(text: string, fragments: readonly string[]): void {
  for (const fragment of fragments) assert.ok(text.includes(fragment), `"${text}" lacks "${fragment}"`);
}

/** A hand-written attached raw NRRD header (the writer under test is not involved), then `voxels` sparse bytes. */
async function writeSparseRawNrrd(file: string, sizes: Shape3, voxels: number | 'none'): Promise<void> {
  const header = `NRRD0004\ntype: uint8\ndimension: 3\nsizes: ${sizes.join(' ')}\nencoding: raw\n\n`;
  await writeFile(file, header);
  if (voxels !== 'none') await truncate(file, Buffer.byteLength(header) + voxels);
}

describe('buildCatalog', () => {
  let root = '';
  /** 10 series of 16x32x32 in one folder, seed 3: copied, then broken. */
  let pristine = '';
  let pristineEntries: SynthEntry[] = [];

  before(async () => {
    try {
      await run('teem-unu', ['about']);
    } catch (error) {
      assert.fail(`teem-unu writes some fixtures; apt-get install teem-apps (${error})`);
    }
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-catalog-'));
    pristine = path.join(root, 'pristine');
    await writePhantomDataset(pristine, { series: 10, shape: SHAPE, seed: 3n });
    pristineEntries = await synthEntries(pristine);
  });
  after(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  async function copyOfPristine(name: string): Promise<string> {
    const dir = path.join(root, name);
    await cp(pristine, dir, { recursive: true });
    return dir;
  }

  describe('a valid folder', () => {
    let dir = '';
    let expected: Array<SynthEntry & { folder: string }> = [];
    let catalog: Catalog;

    before(async () => {
      dir = path.join(root, 'valid');
      await writePhantomDataset(path.join(dir, 'subset0'), { series: 3, shape: SHAPE, seed: 1n });
      await writePhantomDataset(path.join(dir, 'subset1'), { series: 3, shape: SHAPE, seed: 2n });
      expected = [];
      for (const subset of ['subset0', 'subset1']) {
        const folder = path.join(dir, subset);
        for (const entry of await synthEntries(folder)) expected.push({ ...entry, folder });
      }
      expected.sort((a, b) => (a.uid < b.uid ? -1 : 1));
      catalog = await buildCatalog({ source: dir });
    });

    it('finds the series of every subfolder, sorted by uid', () => {
      assert.deepEqual(
        catalog.series.map((series) => series.uid),
        expected.map((entry) => entry.uid),
      );
      assert.equal(catalog.series.length, 6);
      assert.deepEqual(catalog.skipped, []);
      assert.equal(catalog.name, 'valid');
      assert.equal(catalog.source, dir);
    });

    it('gives each series the shape, nodules and files the synth manifest lists', () => {
      catalog.series.forEach((series, i) => {
        const entry = expected[i]!;
        assert.deepEqual(series.shape, SHAPE);
        assert.deepEqual(series.nodules, entry.nodules, series.uid);
        assert.equal(series.imagePath, path.join(entry.folder, entry.image));
        assert.equal(series.maskPath, path.join(entry.folder, entry.mask));
        assert.equal(series.boxesPath, path.join(entry.folder, entry.boxes));
      });
      const nodules = expected.reduce((sum, entry) => sum + entry.nodules.length, 0);
      assert.equal(catalog.nodules, nodules);
    });

    it('keeps series without nodules (they serve negatives)', () => {
      const empty = expected.filter((entry) => entry.nodules.length === 0).map((entry) => entry.uid);
      assert.ok(empty.length >= 2, 'index 2 of each seed is a negative series');
      for (const uid of empty) {
        assert.deepEqual(catalog.series.find((series) => series.uid === uid)?.nodules, []);
      }
    });

    it('counts the decoded bytes as one uint8 image and one uint8 mask per series', () => {
      assert.equal(catalog.decodedBytes, 6 * 2 * VOXELS);
    });

    it('gives the same fingerprint on a second build and for a copy in another folder', async () => {
      assert.match(catalog.fingerprint, /^[0-9a-f]{16}$/);
      assert.equal((await buildCatalog({ source: dir })).fingerprint, catalog.fingerprint);
      const moved = path.join(root, 'valid-copy');
      await cp(dir, moved, { recursive: true });
      const copy = await buildCatalog({ source: moved, name: 'other' });
      assert.equal(copy.name, 'other');
      assert.equal(copy.fingerprint, catalog.fingerprint);
    });

    it('gives another fingerprint when one box changes', async () => {
      const changed = path.join(root, 'valid-box-changed');
      await cp(dir, changed, { recursive: true });
      const entry = expected.find((candidate) => candidate.nodules.length > 0)!;
      const boxes = path.join(changed, path.relative(dir, entry.folder), entry.boxes);
      const rows = entry.nodules.map((nodule) => [...nodule.center, nodule.diameter]);
      rows[0]![3] = rows[0]![3]! + 1;
      await numpySave([{ file: boxes, rows }]);
      const rebuilt = await buildCatalog({ source: changed });
      assert.equal(
        rebuilt.series.find((series) => series.uid === entry.uid)?.nodules[0]?.diameter,
        rows[0]![3],
      );
      assert.notEqual(rebuilt.fingerprint, catalog.fingerprint);
    });
  });

  describe('bad series', () => {
    let dir = '';
    let catalog: Catalog;
    const uid = (index: number) => pristineEntries[index]!.uid;
    const file = (index: number, role: 'clean.nrrd' | 'mask.nrrd' | 'bboxes.npy') =>
      path.join(dir, `${uid(index)}_${role}`);
    const BROKEN = [0, 1, 2, 3, 4, 5, 6, 7];

    before(async () => {
      dir = await copyOfPristine('broken');
      await rm(file(0, 'mask.nrrd'));
      await rm(file(1, 'bboxes.npy'));
      await rm(file(2, 'clean.nrrd'));
      // Series 3: a mask one voxel narrower along axis 2, cut by teem-unu.
      const narrow = path.join(root, 'narrow-mask.nrrd');
      await run(
        'teem-unu',
        ['crop', '-min', '0', '0', '0', '-max', 'M', 'M', 'M-1'].concat([
          '-i',
          file(3, 'mask.nrrd'),
          '-o',
          narrow,
        ]),
      );
      await rename(narrow, file(3, 'mask.nrrd'));
      await writeFile(file(4, 'clean.nrrd'), Buffer.from('\x89PNG\r\n\x1a\n garbage, not a header at all'));
      await numpySave([
        {
          file: file(5, 'bboxes.npy'),
          rows: [
            [8, 16, 16, 4],
            [16.5, 5, 5, 3],
          ],
        },
        { file: file(6, 'bboxes.npy'), pickle: true },
      ]);
      // Series 7 again in a subfolder: the same uid twice.
      await mkdir(path.join(dir, 'again'));
      for (const role of ['clean.nrrd', 'mask.nrrd', 'bboxes.npy'] as const) {
        await cp(file(7, role), path.join(dir, 'again', path.basename(file(7, role))));
      }
      catalog = await buildCatalog({ source: dir });
    });

    it('serves the series that are fine and skips each broken one once', () => {
      assert.deepEqual(
        catalog.series.map((series) => series.uid),
        [uid(8), uid(9)].sort(),
      );
      assert.deepEqual(
        catalog.skipped.map((entry) => entry.uid),
        BROKEN.map(uid).sort(),
      );
      assert.equal(catalog.decodedBytes, 2 * 2 * VOXELS);
    });

    it('names the missing mask, where it was looked for, and the fix', () => {
      assertMentions(reasonOf(catalog, uid(0)), [`${uid(0)}_mask.nrrd`, file(0, 'clean.nrrd'), 'add it']);
    });

    it('names the missing boxes file and says to save an empty (0, 4) array', () => {
      assertMentions(reasonOf(catalog, uid(1)), [`${uid(1)}_bboxes.npy`, '(0, 4)']);
    });

    it('names the missing image and the fix', () => {
      assertMentions(reasonOf(catalog, uid(2)), [`${uid(2)}_clean.nrrd`, dir, 'add it']);
    });

    it('names both files and both shapes when image and mask differ', () => {
      assertMentions(reasonOf(catalog, uid(3)), [
        file(3, 'clean.nrrd'),
        file(3, 'mask.nrrd'),
        '16x32x32',
        '16x32x31',
        "image's sizes",
      ]);
    });

    it('names a file whose header is garbage', () => {
      assertMentions(reasonOf(catalog, uid(4)), [file(4, 'clean.nrrd'), 'not an NRRD file']);
    });

    it('names the boxes file, the row and the volume when a centre lies outside it', () => {
      assertMentions(reasonOf(catalog, uid(5)), [
        file(5, 'bboxes.npy'),
        'row 1',
        '16x32x32',
        'voxel coordinates',
      ]);
    });

    it('refuses a pickled object .npy without unpickling it, and says how to save the boxes', () => {
      assertMentions(reasonOf(catalog, uid(6)), [
        file(6, 'bboxes.npy'),
        'Python objects',
        'never unpickles',
        'np.save',
      ]);
    });

    it('names both files when one uid appears in two subfolders', () => {
      assertMentions(reasonOf(catalog, uid(7)), [
        file(7, 'clean.nrrd'),
        path.join(dir, 'again', `${uid(7)}_clean.nrrd`),
        path.join(dir, 'again', `${uid(7)}_mask.nrrd`),
        path.join(dir, 'again', `${uid(7)}_bboxes.npy`),
        'keep one copy',
      ]);
    });

    it('with strict, refuses the data set naming the count and the first bad series', async () => {
      const first = BROKEN.map(uid).sort()[0]!;
      await expectError(buildCatalog({ source: dir, strict: true }), 'FAILED_PRECONDITION', [
        `${BROKEN.length} series cannot be served`,
        `first: ${first}: ${reasonOf(catalog, first)}`,
        'without --strict',
      ]);
    });

    it('refuses a data set where no series can be served, unless allowEmpty', async () => {
      const only = path.join(root, 'only-broken');
      await mkdir(only);
      await cp(file(3, 'clean.nrrd'), path.join(only, path.basename(file(3, 'clean.nrrd'))));
      await cp(file(3, 'mask.nrrd'), path.join(only, path.basename(file(3, 'mask.nrrd'))));
      await cp(file(3, 'bboxes.npy'), path.join(only, path.basename(file(3, 'bboxes.npy'))));
      await expectError(buildCatalog({ source: only }), 'FAILED_PRECONDITION', [
        'none of the 1 series',
        uid(3),
        'voxelfeed index',
      ]);
      const listed = await buildCatalog({ source: only, allowEmpty: true });
      assert.deepEqual(listed.series, []);
      assert.equal(listed.skipped.length, 1);
    });

    it('refuses a folder without any series file, naming the expected names', async () => {
      const empty = path.join(root, 'empty');
      await mkdir(path.join(empty, 'subset0'), { recursive: true });
      await writeFile(path.join(empty, 'subset0', 'notes.txt'), 'raw .mhd files live elsewhere\n');
      await expectError(buildCatalog({ source: empty }), 'FAILED_PRECONDITION', [
        `no series found in ${empty}`,
        '<uid>_clean.nrrd',
      ]);
    });
  });

  describe('start-up reads headers only', () => {
    it('indexes a series whose voxel data is truncated and corrupt; loading it fails later', async () => {
      const dir = await copyOfPristine('truncated');
      const image = path.join(dir, pristineEntries[0]!.image);
      const bytes = await readFile(image);
      const headerEnd = bytes.indexOf('\n\n') + 2;
      await writeFile(image, Buffer.concat([bytes.subarray(0, headerEnd), Buffer.from('not gzip data')]));
      const catalog = await buildCatalog({ source: dir });
      const series = catalog.series.find((entry) => entry.uid === pristineEntries[0]!.uid);
      assert.ok(series, 'the series is indexed');
      assert.deepEqual(series.shape, SHAPE);
      assert.equal(catalog.series.length, 10);
      await assert.rejects(loadCatalogVolume(series), (error: unknown) => {
        assert.ok(isVoxelfeedError(error));
        assert.equal(error.code, 'DATA_LOSS');
        return true;
      });
    });

    it('indexes a detached .nhdr whose data file is missing; loading it fails later', async () => {
      const dir = await copyOfPristine('detached');
      const entry = pristineEntries[1]!;
      const nhdr = path.join(dir, `${entry.uid}_clean.nhdr`);
      await run('teem-unu', [
        'save',
        '-f',
        'nrrd',
        '-e',
        'raw',
        '-i',
        path.join(dir, entry.image),
        '-o',
        nhdr,
      ]);
      await rm(path.join(dir, entry.image));
      await rm(path.join(dir, `${entry.uid}_clean.raw`));
      const catalog = await buildCatalog({ source: dir });
      const series = catalog.series.find((candidate) => candidate.uid === entry.uid);
      assert.ok(series, 'the series is indexed');
      assert.equal(series.imagePath, nhdr);
      assert.deepEqual(series.shape, SHAPE);
      assert.deepEqual(series.nodules, entry.nodules);
      await assert.rejects(loadCatalogVolume(series), (error: unknown) => {
        assert.ok(isVoxelfeedError(error));
        assert.match(error.message, /_clean\.raw/);
        return true;
      });
    });

    it('indexes headers of 600x512x512 volumes whose voxel data is absent altogether', async () => {
      const dir = path.join(root, 'headers-only');
      await mkdir(dir);
      const big: Shape3 = [600, 512, 512];
      for (const entry of pristineEntries.slice(0, 3)) {
        await writeSparseRawNrrd(path.join(dir, entry.image), big, 'none');
        await writeSparseRawNrrd(path.join(dir, entry.mask), big, 'none');
        await cp(path.join(pristine, entry.boxes), path.join(dir, entry.boxes));
      }
      const catalog = await buildCatalog({ source: dir });
      assert.equal(catalog.series.length, 3);
      assert.deepEqual(catalog.skipped, []);
      assert.equal(catalog.decodedBytes, 3 * 2 * 600 * 512 * 512);
    });

    it('reads the same number of bytes for 10^6- and 7.29 * 10^8-voxel volumes', async () => {
      // Every read through a file handle is counted; boxes files (the same in both) are read whole.
      const probe = await open(path.join(pristine, PHANTOM_MANIFEST_NAME));
      const prototype = Object.getPrototypeOf(probe) as {
        read: (...args: unknown[]) => Promise<{ bytesRead: number }>;
      };
      await probe.close();
      const original = prototype.read;
      const bytesRead = async (sizes: Shape3): Promise<number> => {
        const dir = path.join(root, `sparse-${sizes[0]}`);
        await mkdir(dir);
        for (const entry of pristineEntries.slice(0, 3)) {
          await writeSparseRawNrrd(path.join(dir, entry.image), sizes, sizes[0] * sizes[1] * sizes[2]);
          await writeSparseRawNrrd(path.join(dir, entry.mask), sizes, sizes[0] * sizes[1] * sizes[2]);
          await cp(path.join(pristine, entry.boxes), path.join(dir, entry.boxes));
        }
        let total = 0;
        prototype.read = async function (this: unknown, ...args: unknown[]) {
          const result = await original.apply(this, args);
          total += result.bytesRead;
          return result;
        };
        try {
          const catalog = await buildCatalog({ source: dir });
          assert.equal(catalog.series.length, 3);
          assert.deepEqual(catalog.series[0]!.shape, sizes);
        } finally {
          prototype.read = original;
        }
        return total;
      };
      const small = await bytesRead([100, 100, 100]);
      const large = await bytesRead([900, 900, 900]);
      assert.ok(small > 0, 'the spy sees the header reads');
      assert.equal(large, small);
      assert.ok(small <= 6 * 4096, `${small} bytes read for 6 headers`);
    });
  });

  describe('a manifest', () => {
    let folderCatalog: Catalog;
    let dir = '';
    const relative = (entry: SynthEntry, role: 'image' | 'mask' | 'boxes') => `../pristine/${entry[role]}`;

    before(async () => {
      folderCatalog = await buildCatalog({ source: pristine });
      dir = path.join(root, 'manifests');
      await mkdir(dir);
    });

    it('reads CSV with columns in any order, extra columns, comments and paths relative to its folder', async () => {
      const lines = ['# written by hand', 'boxes,id,notes,mask,image', ''];
      for (const entry of pristineEntries) {
        lines.push(
          [
            relative(entry, 'boxes'),
            entry.uid,
            'a note',
            relative(entry, 'mask'),
            relative(entry, 'image'),
          ].join(','),
        );
      }
      const manifest = path.join(dir, 'list.csv');
      await writeFile(manifest, `${lines.join('\r\n')}\r\n`);
      const catalog = await buildCatalog({ source: manifest });
      assert.equal(catalog.name, 'list');
      assert.deepEqual(catalog.series, folderCatalog.series);
      assert.equal(catalog.fingerprint, folderCatalog.fingerprint);
    });

    it('reads CSV with a byte order mark, quoted cells and absolute paths', async () => {
      const lines = ['id,image,mask,boxes'];
      for (const entry of pristineEntries) {
        const full = (name: string) => path.join(pristine, name);
        lines.push(`"${entry.uid}","${full(entry.image)}",${full(entry.mask)},"${full(entry.boxes)}"`);
      }
      const manifest = path.join(dir, 'excel.csv');
      await writeFile(manifest, `\uFEFF${lines.join('\n')}\n`);
      assert.deepEqual((await buildCatalog({ source: manifest })).series, folderCatalog.series);
    });

    it('reads JSON as an array and as {"series": [...]}', async () => {
      const rows = pristineEntries.map((entry) => ({
        id: entry.uid,
        image: relative(entry, 'image'),
        mask: relative(entry, 'mask'),
        boxes: relative(entry, 'boxes'),
      }));
      const asArray = path.join(dir, 'array.json');
      const asObject = path.join(dir, 'object.json');
      await writeFile(asArray, JSON.stringify(rows));
      await writeFile(asObject, JSON.stringify({ series: rows.reverse() }));
      for (const manifest of [asArray, asObject]) {
        const catalog = await buildCatalog({ source: manifest });
        assert.deepEqual(catalog.series, folderCatalog.series, manifest);
        assert.equal(catalog.fingerprint, folderCatalog.fingerprint);
      }
    });

    it('skips a row without a mask path or with a missing file, naming the manifest and the file', async () => {
      const [a, b, c] = pristineEntries as [SynthEntry, SynthEntry, SynthEntry];
      const manifest = path.join(dir, 'gaps.csv');
      await writeFile(
        manifest,
        [
          'id,image,mask,boxes',
          `${a.uid},${relative(a, 'image')},,${relative(a, 'boxes')}`,
          `${b.uid},${relative(b, 'image')},${relative(b, 'mask')},../pristine/nowhere.npy`,
          `${c.uid},${relative(c, 'image')},${relative(c, 'mask')},${relative(c, 'boxes')}`,
          `${c.uid},${relative(c, 'image')},${relative(c, 'mask')},${relative(c, 'boxes')}`,
        ].join('\n'),
      );
      const catalog = await buildCatalog({ source: manifest });
      assert.deepEqual(
        catalog.series.map((series) => series.uid),
        [c.uid],
      );
      assertMentions(reasonOf(catalog, a.uid), [manifest, 'mask']);
      assertMentions(reasonOf(catalog, b.uid), [path.join(pristine, 'nowhere.npy')]);
      assertMentions(reasonOf(catalog, c.uid), ['listed twice', manifest]);
    });

    it('refuses a CSV row with an empty id, naming the file and the line as an editor counts it', async () => {
      const entry = pristineEntries[0]!;
      const manifest = path.join(dir, 'bad-row.csv');
      await writeFile(
        manifest,
        [
          'id,image,mask,boxes',
          `${entry.uid},${relative(entry, 'image')},${relative(entry, 'mask')},${relative(entry, 'boxes')}`,
          '# the next row lost its id',
          '',
          ` ,${relative(entry, 'image')},${relative(entry, 'mask')},${relative(entry, 'boxes')}`,
        ].join('\n'),
      );
      await expectError(buildCatalog({ source: manifest }), 'INVALID_ARGUMENT', [
        manifest,
        'line 5',
        'empty id',
      ]);
    });

    it('refuses a JSON entry without an id, naming the entry', async () => {
      const manifest = path.join(dir, 'bad-entry.json');
      await writeFile(manifest, JSON.stringify([{ id: 'a', image: 'x' }, { image: 'y' }]));
      await expectError(buildCatalog({ source: manifest }), 'INVALID_ARGUMENT', [
        manifest,
        'entry 1',
        '"id"',
      ]);
    });

    it('refuses a CSV without the id,image,mask,boxes header, naming what it lacks', async () => {
      const manifest = path.join(dir, 'no-header.csv');
      await writeFile(manifest, 'uid,image,mask\na,b,c\n');
      await expectError(buildCatalog({ source: manifest }), 'INVALID_ARGUMENT', [
        manifest,
        'lacks id, boxes',
        'id,image,mask,boxes',
      ]);
    });
  });

  it('reports a --data path that does not exist as NOT_FOUND, naming it', async () => {
    const missing = path.join(root, 'no-such-folder');
    await expectError(buildCatalog({ source: missing }), 'NOT_FOUND', [missing, '--data']);
  });
});
