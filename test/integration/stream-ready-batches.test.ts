import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Batch,
  DType,
  SamplingOptions,
  type StreamBatchesRequest,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import { BatchMemory } from '../../server/batches/batch-memory.js';
import { resolveStreamRequest } from '../../server/batches/crop-request.js';
import { GRPC_FRAME_HEADER_BYTES } from '../../server/batches/encoded-batch.js';
import { PlanCache } from '../../server/batches/plan-cache.js';
import type { DatasetRegistry } from '../../server/batches/served-dataset.js';
import { streamReadyBatches } from '../../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../../server/cache/volume-cache.js';
import { buildCatalog } from '../../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../../server/dataset/loading/load-catalog-volume.js';
import { silentLogger } from '../../server/log/logger.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { baseStreamRequest, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const SAMPLING = SamplingOptions.fromPartial({ samplesPerNodule: 2, negativesPerEpoch: 30 });

/** Requests of different shapes: ranks, rank groups, float32, a resumed tail, a split. */
const REQUESTS: Record<string, Partial<StreamBatchesRequest>> = {
  'one rank, uint8 with masks': { batchSize: 4 },
  'rank 2 of 3 in 2 rank groups, float32 without masks': {
    worldSize: 3,
    rank: 2,
    rankGroups: 2,
    batchSize: 2,
    dtype: DType.DTYPE_FLOAT32,
    includeMask: false,
    cropSize: [6, 10, 12],
  },
  'a resumed tail of 3 steps of another seed and epoch': {
    seed: 9n,
    epoch: 3,
    batchSize: 3,
    startStep: 2n,
    maxSteps: 3n,
  },
};

// The gRPC handler is an adapter around the pipeline: what a client receives must be exactly what the pipeline
// yields in this process for the same request, batch for batch, with nothing added, dropped or reordered.
describe('streamReadyBatches beside StreamBatches', { timeout: 60_000 }, () => {
  let data: TempDataset;
  let server: TestServer;
  let registry: DatasetRegistry;

  before(async () => {
    data = await createPhantomDataset({ series: 5, shape: [16, 32, 32], seed: 17n });
    server = await startTestServer({ data: data.dir });
    // A second copy of the data set, served in this process as the server serves its own.
    const catalog = await buildCatalog({ source: data.dir });
    const cache = new VolumeCache<number>({
      maxBytes: catalog.decodedBytes + 1024,
      load: (index) => loadCatalogVolume(catalog.series[index]!),
    });
    registry = {
      defaultName: catalog.name,
      datasets: new Map([[catalog.name, { catalog, cache, plans: new PlanCache(catalog.series) }]]),
    };
  });

  after(async () => {
    await server?.close();
    await data?.cleanup();
  });

  for (const [name, partial] of Object.entries(REQUESTS)) {
    it(`yields exactly the batches the gRPC stream sends: ${name}`, async () => {
      const wire = baseStreamRequest({ sampling: SAMPLING, ...partial });
      const sent = await streamAll(server.client, wire);
      const request = resolveStreamRequest(wire, registry, DEFAULT_SERVICE_LIMITS);
      const yielded: Batch[] = [];
      const memory = new BatchMemory({
        budgetBytes: DEFAULT_SERVICE_LIMITS.batchMemoryBytes,
        idleReleaseMs: 0,
      });
      for await (const ready of streamReadyBatches(request, new AbortController().signal, {
        prefetchBatches: DEFAULT_SERVICE_LIMITS.prefetchBatches,
        batchMemory: memory,
        log: silentLogger,
        streamId: 'in-process',
        // Where grpc-js, the client above, receives each message: the same padding before a float32 image.
        imageLanding: GRPC_FRAME_HEADER_BYTES,
      })) {
        yielded.push(Batch.decode(ready.batch.bytes));
        ready.release();
      }
      assert.ok(sent.length >= 2, `the request streams ${sent.length} batches`);
      assert.equal(yielded.length, sent.length);
      for (const [at, batch] of yielded.entries()) assert.deepEqual(batch, sent[at], `batch ${at}`);
    });
  }
});
