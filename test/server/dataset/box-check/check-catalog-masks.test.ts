import assert from 'node:assert/strict';
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCatalogMasks } from '../../../../server/dataset/box-check/check-catalog-masks.js';
import { buildCatalog } from '../../../../server/dataset/catalog/build-catalog.js';
import { writePhantomDataset } from '../../../../server/synth/write-phantom-dataset.js';
import { BOX_LAYOUT_SPACING, writeBoxLayoutDataset } from '../../../support/box-layout-dataset.js';

/*
 * Data sets written by numpy and teem's unu (never voxelfeed's writers), one series per way of writing boxes,
 * read back by the catalog and checked mask by mask, as `voxelfeed index --check` does.
 */

describe('checkCatalogMasks', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-mask-check-'));
  });
  after(async () => {
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('names the series whose boxes are (z, x, y) or millimetres, with the cause, and passes the right ones', async () => {
    const dir = path.join(root, 'mixed');
    const [right, swapped, millimetres, alsoRight] = await writeBoxLayoutDataset(dir, [
      'voxels',
      'zxy',
      'millimetres',
      'voxels',
    ]);
    const catalog = await buildCatalog({ source: dir });
    assert.equal(
      catalog.skipped.length,
      0,
      'every centre lies inside its volume: indexing alone passes them',
    );
    assert.deepEqual(
      catalog.series.find((series) => series.uid === right)?.spacing?.map((s) => Math.round(s * 1000) / 1000),
      [...BOX_LAYOUT_SPACING],
    );
    const report = await checkCatalogMasks(catalog);
    assert.equal(report.checked, 4);
    assert.deepEqual(report.unreadable, []);
    assert.deepEqual(
      report.mismatched.map((entry) => entry.uid),
      [swapped, millimetres],
      `${right} and ${alsoRight} are right`,
    );
    const [zxy, mm] = report.mismatched;
    assert.ok(zxy!.reason.includes('2 of 2 box centres'), zxy!.reason);
    assert.ok(zxy!.reason.includes('look like (z, x, y), expected (z, y, x)'), zxy!.reason);
    assert.ok(mm!.reason.includes('look like millimetres, expected voxels'), mm!.reason);
    assert.ok(mm!.reason.includes('(0.8, 0.7, 0.7)'), mm!.reason);
  });

  it('raises nothing on a phantom data set', async () => {
    const dir = path.join(root, 'phantom');
    await writePhantomDataset(dir, { series: 6, shape: [24, 48, 48], seed: 11n });
    const catalog = await buildCatalog({ source: dir });
    const report = await checkCatalogMasks(catalog);
    assert.ok(report.checked >= 4, `${report.checked} series with nodules`);
    assert.deepEqual(report.mismatched, []);
    assert.deepEqual(report.unreadable, []);
  });

  it('lists a mask whose data is truncated as unreadable', async () => {
    const dir = path.join(root, 'truncated');
    const [uid] = await writeBoxLayoutDataset(dir, ['voxels', 'voxels']);
    const catalog = await buildCatalog({ source: dir });
    const maskPath = catalog.series.find((series) => series.uid === uid)!.maskPath;
    await truncate(maskPath, 300);
    const report = await checkCatalogMasks(catalog);
    assert.deepEqual(
      report.unreadable.map((entry) => entry.uid),
      [uid],
    );
    assert.ok(report.unreadable[0]!.reason.includes(maskPath), report.unreadable[0]!.reason);
    assert.deepEqual(report.mismatched, []);
  });
});
