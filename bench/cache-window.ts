import type { Catalog } from '../server/dataset/catalog/catalog.js';
import { type CacheEpochRun, cacheEpoch } from './cache-epoch.js';

export interface CacheWindowRun extends CacheEpochRun {
  readonly shuffleWindow: number;
}

/**
 * (g) One epoch from a cold cache that holds `cacheFraction` of the data set, with the full shuffle and with
 * the cache-aware windowed order: cache hit ratio and volume loads per epoch.
 */
export async function benchCacheWindow(
  catalog: Catalog,
  options: {
    cacheFraction: number;
    negativesPerSeries: number;
    batchSize: number;
    crop: readonly [number, number, number];
  },
): Promise<{ series: number; cacheSeries: number; full: CacheWindowRun; windowed: CacheWindowRun }> {
  const perSeries = catalog.decodedBytes / catalog.series.length;
  const cacheBytes = Math.floor(catalog.decodedBytes * options.cacheFraction);
  const cacheSeries = Math.floor(cacheBytes / perSeries);
  // Leave room for the two windows a batch at a window's edge may straddle.
  const window = Math.max(1, Math.floor(cacheSeries * 0.8));
  const epoch = async (shuffleWindow: number): Promise<CacheWindowRun> => ({
    shuffleWindow,
    ...(await cacheEpoch(catalog, {
      replicas: 1,
      worldSize: 1,
      rankGroups: 1,
      shuffleWindow,
      cacheBytes,
      negativesPerSeries: options.negativesPerSeries,
      batchSize: options.batchSize,
      crop: options.crop,
    })),
  });
  const full = await epoch(0);
  const windowed = await epoch(window);
  return { series: catalog.series.length, cacheSeries, full, windowed };
}
