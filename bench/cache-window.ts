import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/load-catalog-volume.js';
import { planPosition, stepsInEpoch } from '../server/sampling/epoch-steps.js';
import { ALL_SERIES } from '../server/sampling/series-split.js';
import { DEFAULT_SAMPLING_POLICY } from '../server/sampling/types.js';
import { assembleBatch } from '../server/service/assemble-batch.js';
import type { CropRequest } from '../server/service/crop-request.js';
import { PlanCache } from '../server/service/plan-cache.js';

export interface CacheWindowRun {
  readonly shuffleWindow: number;
  readonly requests: number;
  readonly hitRatio: number;
  readonly loads: number;
  readonly loadsPerSeries: number;
  readonly seconds: number;
}

/**
 * (g) One epoch from a cold cache that holds `cacheFraction` of the data set, with the full shuffle and with
 * the cache-aware windowed order: cache hit ratio and volume loads per epoch.
 */
export async function benchCacheWindow(
  dir: string,
  options: {
    cacheFraction: number;
    negativesPerSeries: number;
    batchSize: number;
    crop: readonly [number, number, number];
  },
): Promise<{ series: number; cacheSeries: number; full: CacheWindowRun; windowed: CacheWindowRun }> {
  const catalog = await buildCatalog({ source: dir });
  const perSeries = catalog.decodedBytes / catalog.series.length;
  const cacheBytes = Math.floor(catalog.decodedBytes * options.cacheFraction);
  const cacheSeries = Math.floor(cacheBytes / perSeries);
  // Leave room for the two windows a batch at a window's edge may straddle.
  const window = Math.max(1, Math.floor(cacheSeries * 0.8));
  const epoch = async (shuffleWindow: number): Promise<CacheWindowRun> => {
    const outcomes = { hit: 0, miss: 0, coalesced: 0 };
    const cache = new VolumeCache<number>({
      maxBytes: cacheBytes,
      load: (index) => loadCatalogVolume(catalog.series[index]!),
      events: { onOutcome: (outcome) => outcomes[outcome]++ },
    });
    const policy = {
      ...DEFAULT_SAMPLING_POLICY,
      negativesPerEpoch: catalog.series.length * options.negativesPerSeries,
      shuffleWindow,
    };
    const request: CropRequest = {
      datasetName: catalog.name,
      dataset: { catalog, cache, plans: new PlanCache(catalog.series) },
      seed: 1n,
      epoch: 0,
      policy,
      cropSize: options.crop,
      dtype: 'uint8',
      includeMask: true,
      split: ALL_SERIES,
    };
    const plan = request.dataset.plans.get(policy, request.seed, request.epoch);
    const steps = stepsInEpoch(plan.size, 1, options.batchSize);
    const started = performance.now();
    for (let step = 0; step < steps; step++) {
      const positions = Array.from({ length: options.batchSize }, (_, slot) =>
        planPosition(step, 0, slot, 1, options.batchSize),
      );
      await assembleBatch(request, plan, positions, { step, stepsInEpoch: steps, rank: 0, worldSize: 1 });
    }
    const requests = outcomes.hit + outcomes.miss + outcomes.coalesced;
    return {
      shuffleWindow,
      requests,
      hitRatio: outcomes.hit / requests,
      loads: cache.loads,
      loadsPerSeries: cache.loads / catalog.series.length,
      seconds: (performance.now() - started) / 1000,
    };
  };
  const full = await epoch(0);
  const windowed = await epoch(window);
  return { series: catalog.series.length, cacheSeries, full, windowed };
}
