import type { Catalog } from '../server/dataset/catalog/catalog.js';
import { type CacheEpochRun, cacheEpoch } from './cache-epoch.js';

/**
 * (h) Several replicas, each with its own cache holding `cacheFraction` of the data set, rank r pinned to
 * replica r mod K (rank affinity), the windowed epoch order: one epoch with the ranks interleaved over the
 * whole plan (rank_groups 1) and with the plan cut into one part per replica (rank_groups K).
 */
export async function benchReplicaGroups(
  catalog: Catalog,
  options: {
    replicas: number;
    worldSize: number;
    cacheFraction: number;
    negativesPerSeries: number;
    batchSize: number;
    crop: readonly [number, number, number];
  },
): Promise<{ window: number; interleaved: CacheEpochRun; grouped: CacheEpochRun }> {
  const perSeries = catalog.decodedBytes / catalog.series.length;
  const cacheBytes = Math.floor(catalog.decodedBytes * options.cacheFraction);
  const window = Math.max(1, Math.floor((cacheBytes / perSeries) * 0.8));
  const epoch = (rankGroups: number) =>
    cacheEpoch(catalog, {
      replicas: options.replicas,
      worldSize: options.worldSize,
      rankGroups,
      shuffleWindow: window,
      cacheBytes,
      negativesPerSeries: options.negativesPerSeries,
      batchSize: options.batchSize,
      crop: options.crop,
    });
  const interleaved = await epoch(1);
  const grouped = await epoch(options.replicas);
  return { window, interleaved, grouped };
}
