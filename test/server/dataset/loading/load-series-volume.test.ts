import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadSeriesVolume } from '../../../../server/dataset/loading/load-series-volume.js';
import { isVoxelfeedError } from '../../../../server/errors.js';

const run = promisify(execFile);
const UNU = '/usr/bin/teem-unu';
const [N0, N1, N2] = [6, 5, 7];
const COUNT = N0 * N1 * N2;

let dir = '';
const at = (name: string): string => path.join(dir, name);
/** File-order value of voxel i of the image: distinct per voxel so any misplaced voxel shows. */
const imageValue = (i: number): number => (i * 11) % 256;
const maskValue = (i: number): number => (i % 5 === 0 ? 255 : 0);

before(async () => {
  if (!existsSync(UNU))
    throw new Error(`${UNU} is missing; these tests need teem's unu: apt-get install teem-apps`);
  dir = await mkdtemp(path.join(tmpdir(), 'voxelfeed-load-'));
  await writeFile(
    at('image.bin'),
    Uint8Array.from({ length: COUNT }, (_, i) => imageValue(i)),
  );
  await writeFile(
    at('mask.bin'),
    Uint8Array.from({ length: COUNT }, (_, i) => maskValue(i)),
  );
  const sizes = [String(N0), String(N1), String(N2)];
  await run(UNU, ['make', '-i', 'image.bin', '-t', 'uchar', '-s', ...sizes, '-e', 'raw', '-o', 'raw.nrrd'], {
    cwd: dir,
  });
  await run(UNU, ['save', '-f', 'nrrd', '-e', 'gzip', '-i', 'raw.nrrd', '-o', 'image.nrrd'], { cwd: dir });
  await run(UNU, ['make', '-i', 'mask.bin', '-t', 'uchar', '-s', ...sizes, '-o', 'mask.nrrd'], { cwd: dir });
  await run(UNU, ['make', '-i', 'mask.bin', '-t', 'uchar', '-s', '7', '5', '6', '-o', 'other-mask.nrrd'], {
    cwd: dir,
  });
});

after(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

describe('loadSeriesVolume', () => {
  it('reads a gzip image and a raw mask written by teem into the C-ordered cache layout', async () => {
    const loaded = await loadSeriesVolume(at('image.nrrd'), at('mask.nrrd'));
    assert.deepEqual(loaded.volume.shape, [N0, N1, N2]);
    for (let x0 = 0; x0 < N0; x0++) {
      for (let x1 = 0; x1 < N1; x1++) {
        for (let x2 = 0; x2 < N2; x2++) {
          const file = x0 + N0 * (x1 + N1 * x2);
          const c = (x0 * N1 + x1) * N2 + x2;
          assert.equal(loaded.volume.image[c], imageValue(file));
          // The cache keeps labels (crops make them 0/1 unless keep_labels).
          assert.equal(loaded.volume.mask[c], maskValue(file));
        }
      }
    }
  });

  it('counts every byte of both files and splits the wall time into read and decode', async () => {
    const loaded = await loadSeriesVolume(at('image.nrrd'), at('mask.nrrd'));
    const onDisk = (await stat(at('image.nrrd'))).size + (await stat(at('mask.nrrd'))).size;
    assert.equal(loaded.fileBytes, onDisk);
    assert.ok(loaded.readMs >= 0 && loaded.decodeMs >= 0);
  });

  it('refuses a mask whose shape differs from the image, naming both files', async () => {
    await assert.rejects(loadSeriesVolume(at('image.nrrd'), at('other-mask.nrrd')), (error: unknown) => {
      assert.ok(isVoxelfeedError(error));
      assert.equal(error.code, 'DATA_LOSS');
      assert.ok(error.message.includes(at('image.nrrd')) && error.message.includes(at('other-mask.nrrd')));
      return true;
    });
  });
});
