import { BatchMemory } from '../../server/batches/batch-memory.js';
import type { StreamRequest } from '../../server/batches/crop-request.js';
import { PlanCache } from '../../server/batches/plan-cache.js';
import { streamReadyBatches } from '../../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../../server/cache/volume-cache.js';
import { buildCatalog } from '../../server/dataset/catalog/build-catalog.js';
import type { Catalog } from '../../server/dataset/catalog/catalog.js';
import { loadCatalogVolume } from '../../server/dataset/loading/load-catalog-volume.js';
import { type Logger, silentLogger } from '../../server/log/logger.js';
import { ALL_SERIES } from '../../server/sampling/series-split.js';
import { DEFAULT_SAMPLING_POLICY } from '../../server/sampling/types.js';

/** A data set folder served in-process: the server's catalog, cache and plans, no network. */
export interface InProcessDataset {
  readonly catalog: Catalog;
  /** A stream request for this data set: every field defaulted as a bare request would be, then `fields`. */
  request(fields: Partial<StreamRequest>): StreamRequest;
  /** Every batch of the request's epoch (from its start step), as encoded messages. */
  batches(request: StreamRequest, log?: Logger): Promise<Buffer[]>;
}

export async function serveInProcess(dir: string): Promise<InProcessDataset> {
  const catalog = await buildCatalog({ source: dir });
  const cache = new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    load: (index) => loadCatalogVolume(catalog.series[index]!),
  });
  const plans = new PlanCache(catalog.series);
  const memory = new BatchMemory({ budgetBytes: 64 * 1024 ** 2 });
  return {
    catalog,
    request: (fields) => ({
      datasetName: catalog.name,
      dataset: { catalog, cache, plans },
      seed: 0n,
      epoch: 0,
      policy: DEFAULT_SAMPLING_POLICY,
      cropSize: [4, 4, 4],
      dtype: 'uint8',
      includeMask: true,
      split: ALL_SERIES,
      rank: 0,
      worldSize: 1,
      rankGroups: 1,
      batchSize: 1,
      startStep: 0,
      maxSteps: 0,
      stepStride: 1,
      ...fields,
    }),
    batches: async (request, log = silentLogger) => {
      const out: Buffer[] = [];
      for await (const ready of streamReadyBatches(request, new AbortController().signal, {
        prefetchBatches: 2,
        batchMemory: memory,
        log,
        streamId: 'test',
      })) {
        out.push(Buffer.from(ready.batch.bytes));
        ready.release();
      }
      return out;
    },
  };
}
