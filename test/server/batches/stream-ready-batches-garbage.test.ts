import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AllocationMeter } from '../../../bench/allocation-meter.js';
import { BatchMemory } from '../../../server/batches/batch-memory.js';
import type { StreamRequest } from '../../../server/batches/crop-request.js';
import { PlanCache } from '../../../server/batches/plan-cache.js';
import { streamReadyBatches } from '../../../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../../../server/cache/volume-cache.js';
import { buildCatalog } from '../../../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../../../server/dataset/loading/load-catalog-volume.js';
import { silentLogger } from '../../../server/log/logger.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import { ALL_SERIES } from '../../../server/sampling/series-split.js';
import { createPhantomDataset, type TempDataset } from '../../support/phantom-dataset.js';

const BATCHES = 40;
const BATCH_SIZE = 4;

describe('streamReadyBatches from a warm cache', () => {
  let data: TempDataset;
  let run: (dtype: 'uint8' | 'float32') => Promise<number>;

  before(async () => {
    data = await createPhantomDataset({ series: 4, shape: [24, 64, 64] });
    const catalog = await buildCatalog({ source: data.dir });
    const cache = new VolumeCache<number>({
      maxBytes: catalog.decodedBytes + 1024,
      load: (index) => loadCatalogVolume(catalog.series[index]!),
    });
    const plans = new PlanCache(catalog.series);
    const memory = new BatchMemory({ budgetBytes: 64 * 1024 ** 2 });
    const policy = resolveSamplingPolicy({ negativesPerEpoch: BATCHES * BATCH_SIZE });
    run = async (dtype) => {
      const request: StreamRequest = {
        datasetName: catalog.name,
        dataset: { catalog, cache, plans },
        seed: 3n,
        epoch: 0,
        policy,
        cropSize: [16, 48, 48],
        dtype,
        includeMask: true,
        split: ALL_SERIES,
        rank: 0,
        worldSize: 1,
        rankGroups: 1,
        batchSize: BATCH_SIZE,
        startStep: 0,
        maxSteps: BATCHES,
        stepStride: 1,
      };
      let bytes = 0;
      for await (const ready of streamReadyBatches(request, new AbortController().signal, {
        prefetchBatches: 2,
        batchMemory: memory,
        log: silentLogger,
        streamId: 'garbage',
      })) {
        bytes = ready.batch.framed.byteLength;
        ready.release();
      }
      return bytes;
    };
  });

  after(() => data.cleanup());

  for (const dtype of ['uint8', 'float32'] as const) {
    it(`takes every ${dtype} batch buffer from batch memory and allocates no crop-sized ArrayBuffer per batch`, async () => {
      // Volumes loaded and code compiled before counting.
      const batchBytes = await run(dtype);
      await run(dtype);
      const reading = await new AllocationMeter().measure(async () => {
        await run(dtype);
      });
      const perBatch = reading.externalBytes / BATCHES;
      // A crop of 16x48x48 is 36 KiB; what is left per batch is the encoded fields (a few KiB).
      assert.ok(
        perBatch < 16 * 1024,
        `${BATCHES} batches of ${batchBytes} bytes allocated ${perBatch.toFixed(0)} bytes of ArrayBuffers each; expected under 16 KiB`,
      );
    });
  }
});
