import type { VolumeCache } from '../cache/volume-cache.js';
import type { Catalog } from '../dataset/catalog.js';
import type { PlanCache } from './plan-cache.js';

/** A data set the server answers for: its catalog, its volume cache (keyed by series index) and its epoch plans. */
export interface ServedDataset {
  readonly catalog: Catalog;
  readonly cache: VolumeCache<number>;
  readonly plans: PlanCache;
}

/** Data sets by name; the empty name in a request means `defaultName`. */
export interface DatasetRegistry {
  readonly defaultName: string;
  readonly datasets: ReadonlyMap<string, ServedDataset>;
}
