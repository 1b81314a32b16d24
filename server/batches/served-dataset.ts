import type { VolumeCache } from '../cache/volume-cache.js';
import type { Catalog } from '../dataset/catalog/catalog.js';
import type { CropWorkers } from '../workers/crop-workers.js';
import type { PlanCache } from './plan-cache.js';

/** A data set the server answers for: its catalog, its volume cache (keyed by series index) and its epoch plans. */
export interface ServedDataset {
  readonly catalog: Catalog;
  readonly cache: VolumeCache<number>;
  readonly plans: PlanCache;
  /**
   * Serve streams around series whose volumes failed for good (`cache.failedKeys`): their items are replaced
   * by items of good series (sampling/plan-without-series.ts) instead of ending the stream with DATA_LOSS.
   * Batches then depend on which series this server has found bad. Absent: false.
   */
  readonly replaceBadSeries?: boolean;
  /** Threads that cut the crops of batches in shared memory (`--workers`); absent: the main thread cuts them. */
  readonly workers?: CropWorkers | undefined;
}

/** Data sets by name; the empty name in a request means `defaultName`. */
export interface DatasetRegistry {
  readonly defaultName: string;
  readonly datasets: ReadonlyMap<string, ServedDataset>;
}
