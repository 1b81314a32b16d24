import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildCatalog } from '../../../server/dataset/catalog/build-catalog.js';
import type { CatalogSeries } from '../../../server/dataset/catalog/catalog.js';
import { loadSeriesVolume } from '../../../server/dataset/loading/load-series-volume.js';
import { isVoxelfeedError } from '../../../server/errors.js';
import { CropWorkers } from '../../../server/workers/crop-workers.js';
import { createPhantomDataset, type TempDataset } from '../../support/phantom-dataset.js';

describe('CropWorkers', () => {
  let dataset: TempDataset;
  let series: CatalogSeries;

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [20, 36, 28], seed: 3n, labels: 2 });
    series = (await buildCatalog({ source: dataset.dir })).series[0]!;
  });
  after(async () => {
    await dataset?.cleanup();
  });

  it('loads a volume into shared memory with the bytes, box and labels of a load on this thread', async () => {
    const workers = new CropWorkers({ threads: 2 });
    try {
      const [pooled, here] = await Promise.all([
        workers.loadSeries(series.imagePath, series.maskPath),
        loadSeriesVolume(series.imagePath, series.maskPath),
      ]);
      assert.ok(pooled.volume.image.buffer instanceof SharedArrayBuffer);
      assert.ok(pooled.volume.mask.buffer instanceof SharedArrayBuffer);
      assert.deepEqual(pooled.volume, here.volume);
      assert.ok(pooled.fileBytes > 0 && pooled.fileBytes === here.fileBytes);
    } finally {
      await workers.close();
    }
  });

  it('rejects a file that cannot be read with DATA_LOSS, its errno code kept in the cause', async () => {
    const workers = new CropWorkers({ threads: 1 });
    try {
      await assert.rejects(
        workers.loadSeries(`${dataset.dir}/missing_clean.nrrd`, series.maskPath),
        (error: unknown) =>
          isVoxelfeedError(error) &&
          error.code === 'DATA_LOSS' &&
          error.message.includes('missing_clean.nrrd') &&
          (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT',
      );
    } finally {
      await workers.close();
    }
  });

  it('closes at once after it starts, waiting for threads still loading their code', async () => {
    const workers = new CropWorkers({ threads: 3 });
    await workers.close();
    assert.equal(workers.workerThreads.length, 0);
  });

  it('refuses fewer than one thread', () => {
    assert.throws(() => new CropWorkers({ threads: 0 }), /at least 1 thread, got 0/);
  });
});
