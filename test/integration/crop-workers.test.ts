import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Batch, DType, type StreamBatchesRequest } from '../../gen/voxelfeed/v1/voxelfeed.js';
import type { CropWorkers } from '../../server/workers/crop-workers.js';
import { EVERY_SAMPLING_OPTION } from '../support/every-sampling-option.js';
import { getSample, isStatus, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const SAMPLING = EVERY_SAMPLING_OPTION;

const REQUEST: Partial<StreamBatchesRequest> = {
  seed: 12n,
  epoch: 1,
  batchSize: 3,
  cropSize: [8, 16, 16],
  sampling: SAMPLING,
  includeMask: true,
};

/** Each batch as the bytes a client received. */
function wire(batches: readonly Batch[]): Buffer[] {
  return batches.map((batch) => Buffer.from(Batch.encode(batch).finish()));
}

function workersOf(server: TestServer): CropWorkers | undefined {
  return server.running.registry.datasets.get(server.running.catalog.name)!.workers;
}

describe('crop workers (--workers)', () => {
  let dataset: TempDataset;
  const servers = new Map<number, TestServer>();

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [20, 40, 40], seed: 5n, labels: 3 });
    for (const workers of [0, 1, 2]) {
      servers.set(workers, await startTestServer({ data: dataset.dir, config: { workers } }));
    }
  });
  after(async () => {
    for (const server of servers.values()) await server.close();
    await dataset?.cleanup();
  });

  for (const dtype of [DType.DTYPE_UINT8, DType.DTYPE_FLOAT32]) {
    it(`streams byte-identical epochs with 0, 1 and 2 workers (${DType[dtype]}, augmented, masks)`, async () => {
      const before = [1, 2].map((workers) => workersOf(servers.get(workers)!)!.completedTasks);
      const [none, one, two] = await Promise.all(
        [0, 1, 2].map(async (workers) =>
          wire(await streamAll(servers.get(workers)!.client, { ...REQUEST, dtype })),
        ),
      );
      const reference = await streamAll(servers.get(0)!.client, { ...REQUEST, dtype });
      assert.ok(reference.length >= 5, `an epoch of ${reference.length} batches`);
      assert.ok(
        reference.some((batch) => batch.samples.some((sample) => sample.augmentation !== undefined)),
        'some samples are augmented',
      );
      assert.ok(
        reference.some((batch) => batch.mask.some((voxel) => voxel > 1)),
        'some masks keep labels above 1',
      );
      assert.deepEqual(one, none, '1 worker');
      assert.deepEqual(two, none, '2 workers');
      // The pools did cut them: each ran at least one task per batch.
      [1, 2].forEach((workers, at) => {
        const ran = workersOf(servers.get(workers)!)!.completedTasks - before[at]!;
        assert.ok(
          ran >= reference.length,
          `${workers} worker(s) ran ${ran} tasks for ${reference.length} batches`,
        );
      });
      assert.equal(workersOf(servers.get(0)!), undefined, 'no pool with --workers 0');
    });
  }

  it('outlives a worker thread that dies: the server keeps serving, with the same bytes', async () => {
    const server = servers.get(1)!;
    const workers = workersOf(server)!;
    const reference = wire(
      await streamAll(servers.get(0)!.client, { ...REQUEST, dtype: DType.DTYPE_FLOAT32 }),
    );
    const threads = [...workers.workerThreads];
    assert.equal(threads.length, 1);
    // A stream under way when its thread is ended: it either finishes or ends with UNAVAILABLE, nothing worse.
    const during = streamAll(server.client, { ...REQUEST, dtype: DType.DTYPE_FLOAT32 }).then(
      (batches) => ({ batches }),
      (error: unknown) => ({ error }),
    );
    await threads[0]!.terminate();
    const outcome = await during;
    if ('error' in outcome) assert.ok(isStatus(status.UNAVAILABLE, 'crop worker')(outcome.error));
    else assert.deepEqual(wire(outcome.batches), reference);
    const after = wire(await streamAll(server.client, { ...REQUEST, dtype: DType.DTYPE_FLOAT32 }));
    assert.deepEqual(after, reference);
    assert.equal(workers.workerThreads.length, 1, 'piscina started another thread');
    assert.notEqual(workers.workerThreads[0], threads[0]);
  });
});

describe('crop workers and a volume that turns out corrupt', () => {
  let source: TempDataset;
  const roots: string[] = [];
  const servers: TestServer[] = [];

  before(async () => {
    source = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 5n });
    // Without and with workers, replacing bad series; with workers, failing the streams that need one.
    const settings = [
      { workers: 0, replaceBadSeries: true },
      { workers: 2, replaceBadSeries: true },
      { workers: 2, replaceBadSeries: false },
    ];
    for (const config of settings) {
      const root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-workers-'));
      roots.push(root);
      await cp(source.dir, root, { recursive: true });
      servers.push(await startTestServer({ data: root, config }));
    }
  });
  after(async () => {
    for (const server of servers) await server.close();
    for (const root of roots) await rm(root, { recursive: true, force: true });
    await source?.cleanup();
  });

  it('reports the series and serves around it as without workers, or ends the stream with DATA_LOSS', async () => {
    const victim = servers[0]!.running.catalog.series[0]!;
    // Indexing read only the header: the voxels, cut in half, fail when a worker decodes them.
    for (const root of roots) {
      const image = path.join(root, path.basename(victim.imagePath));
      await truncate(image, Math.floor((await stat(image)).size / 2));
    }
    const request = {
      seed: 4n,
      batchSize: 2,
      cropSize: [8, 16, 16],
      sampling: { ...SAMPLING, negativesPerEpoch: 12 },
    };
    const [without, withWorkers] = await Promise.all(
      servers.slice(0, 2).map(async (server) => wire(await streamAll(server.client, request))),
    );
    assert.deepEqual(withWorkers, without);
    const served = (await streamAll(servers[1]!.client, request)).flatMap((batch) => batch.samples);
    assert.ok(served.length > 0 && served.every((sample) => sample.seriesUid !== victim.uid));
    for (const server of servers.slice(0, 2)) {
      const dataset = server.running.registry.datasets.get(server.running.catalog.name)!;
      assert.deepEqual([...dataset.cache.failedKeys], [0], 'the series is marked bad');
    }
    await assert.rejects(streamAll(servers[2]!.client, request), isStatus(status.DATA_LOSS, victim.uid));
    // Samples of intact series are still served by that server.
    const others = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        getSample(servers[2]!.client, { ...request, index: BigInt(index) }).then(
          (batch) => ({ batch }),
          (error: unknown) => ({ error }),
        ),
      ),
    );
    const intact = others.flatMap((result) => ('batch' in result ? result.batch.samples : []));
    assert.ok(intact.length > 0 && intact.every((sample) => sample.seriesUid !== victim.uid));
    for (const result of others) if ('error' in result) assert.ok(isStatus(status.DATA_LOSS)(result.error));
  });
});
