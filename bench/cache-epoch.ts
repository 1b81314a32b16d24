import { BatchMemory } from '../server/batches/batch-memory.js';
import type { CropRequest } from '../server/batches/crop-request.js';
import { PlanCache } from '../server/batches/plan-cache.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import type { Catalog } from '../server/dataset/catalog/catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { silentLogger } from '../server/log/logger.js';
import { ALL_SERIES } from '../server/sampling/series-split.js';
import { DEFAULT_SAMPLING_POLICY } from '../server/sampling/types.js';

export interface CacheEpochRun {
  /** Hits over all cache requests, every replica together. */
  readonly hitRatio: number;
  /** Volume loads of all replicas together. */
  readonly loads: number;
  readonly loadsPerSeries: number;
  readonly seconds: number;
}

/**
 * One epoch from cold caches: `replicas` servers, each with its own cache of `cacheBytes`, and `worldSize` ranks
 * advancing in lockstep, step by step as synchronous data-parallel training does, rank r served by replica
 * r mod `replicas` (rank affinity). Counts what the caches saw.
 */
export async function cacheEpoch(
  catalog: Catalog,
  options: {
    readonly replicas: number;
    readonly worldSize: number;
    readonly rankGroups: number;
    readonly shuffleWindow: number;
    readonly cacheBytes: number;
    readonly negativesPerSeries: number;
    readonly batchSize: number;
    readonly crop: readonly [number, number, number];
  },
): Promise<CacheEpochRun> {
  const outcomes = { hit: 0, miss: 0, coalesced: 0 };
  const policy = {
    ...DEFAULT_SAMPLING_POLICY,
    negativesPerEpoch: catalog.series.length * options.negativesPerSeries,
    shuffleWindow: options.shuffleWindow,
  };
  const plans = new PlanCache(catalog.series);
  const requests: CropRequest[] = Array.from({ length: options.replicas }, () => ({
    datasetName: catalog.name,
    dataset: {
      catalog,
      plans,
      cache: new VolumeCache<number>({
        maxBytes: options.cacheBytes,
        load: (index) => loadCatalogVolume(catalog.series[index]!),
        events: { onOutcome: (outcome) => outcomes[outcome]++ },
      }),
    },
    seed: 1n,
    epoch: 0,
    policy,
    cropSize: options.crop,
    dtype: 'uint8',
    includeMask: true,
    split: ALL_SERIES,
  }));
  const { worldSize, batchSize } = options;
  // Batches are not prepared ahead: each rank's stream assembles its batch of a step when asked for it.
  const memory = new BatchMemory({ budgetBytes: 1024 ** 3 });
  const signal = new AbortController().signal;
  const streams = Array.from({ length: worldSize }, (_, rank) =>
    streamReadyBatches(
      {
        ...requests[rank % options.replicas]!,
        rank,
        worldSize,
        rankGroups: options.rankGroups,
        batchSize,
        startStep: 0,
        maxSteps: 0,
        stepStride: 1,
      },
      signal,
      { prefetchBatches: 0, batchMemory: memory, log: silentLogger, streamId: `rank ${rank}` },
    ),
  );
  const started = performance.now();
  // Every rank's stream has the same number of steps: one batch each per round, in rank order.
  for (let more = true; more; ) {
    for (const stream of streams) {
      const next = await stream.next();
      more = next.done !== true;
      if (next.done !== true) next.value.release();
    }
  }
  const loads = requests.reduce((sum, request) => sum + request.dataset.cache.loads, 0);
  return {
    hitRatio: outcomes.hit / (outcomes.hit + outcomes.miss + outcomes.coalesced),
    loads,
    loadsPerSeries: loads / catalog.series.length,
    seconds: (performance.now() - started) / 1000,
  };
}
