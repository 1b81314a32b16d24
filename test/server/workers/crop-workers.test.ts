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

  it('counts its threads without an unanswered task, whatever the tasks end with', async () => {
    const workers = new CropWorkers({ threads: 2 });
    try {
      await workers.started(60_000);
      assert.equal(workers.idleThreads, 2);
      const one = workers.loadSeries(series.imagePath, series.maskPath);
      assert.equal(workers.idleThreads, 1);
      const failing = workers.loadSeries('/no/such/image.nrrd', '/no/such/mask.nrrd');
      const three = workers.loadSeries(series.imagePath, series.maskPath);
      assert.equal(workers.idleThreads, 0, 'three tasks on two threads');
      await Promise.allSettled([one, failing, three]);
      assert.equal(workers.idleThreads, 2, 'answered, failed or not');
    } finally {
      await workers.close();
    }
  });

  it('says when every thread has started, and fails after the timeout when threads cannot start', async () => {
    const healthy = new CropWorkers({ threads: 2 });
    try {
      await healthy.started(60_000);
    } finally {
      await healthy.close();
    }
    const modules = {
      'fails as it loads': new URL('../../support/workers/worker-that-throws.mjs', import.meta.url).href,
      'never says it loaded': new URL(
        '../../support/workers/worker-that-never-says-loaded.mjs',
        import.meta.url,
      ).href,
    };
    for (const [what, workerFilename] of Object.entries(modules)) {
      const broken = new CropWorkers({ threads: 2, workerFilename });
      try {
        const started = performance.now();
        await assert.rejects(broken.started(1_500), (error: unknown) => {
          assert.ok(isVoxelfeedError(error), what);
          assert.equal(error.code, 'UNAVAILABLE');
          assert.match(error.message, /^0 of 2 crop worker threads started within 1\.5 s/);
          assert.match(error.message, /--workers 0 \(VOXELFEED_WORKERS=0\)/);
          if (what === 'fails as it loads')
            assert.match(error.message, /this worker module fails as it loads/);
          return true;
        });
        assert.ok(performance.now() - started >= 1_400, `${what}: waited the timeout`);
      } finally {
        await broken.close();
      }
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
