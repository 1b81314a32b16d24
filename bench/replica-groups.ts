import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/load-catalog-volume.js';
import { planPosition, stepsInEpoch } from '../server/sampling/epoch-steps.js';
import { ALL_SERIES } from '../server/sampling/series-split.js';
import { DEFAULT_SAMPLING_POLICY } from '../server/sampling/types.js';
import { assembleBatch } from '../server/service/assemble-batch.js';
import type { CropRequest } from '../server/service/crop-request.js';
import { PlanCache } from '../server/service/plan-cache.js';

export interface ReplicaGroupsRun {
  readonly rankGroups: number;
  /** Hits over all requests, every replica together. */
  readonly hitRatio: number;
  /** Volume loads of all replicas together, per series. */
  readonly loadsPerSeries: number;
}

/**
 * (h) Several replicas, each with its own cache holding `cacheFraction` of the data set, rank r pinned to
 * replica r mod K (rank affinity), the windowed epoch order: one epoch with the ranks interleaved over the
 * whole plan (rank_groups 1) and with the plan cut into one part per replica (rank_groups K). Ranks advance
 * in lockstep, step by step, as synchronous data-parallel training does.
 */
export async function benchReplicaGroups(
  dir: string,
  options: {
    replicas: number;
    worldSize: number;
    cacheFraction: number;
    negativesPerSeries: number;
    batchSize: number;
    crop: readonly [number, number, number];
  },
): Promise<{ window: number; interleaved: ReplicaGroupsRun; grouped: ReplicaGroupsRun }> {
  const catalog = await buildCatalog({ source: dir });
  const perSeries = catalog.decodedBytes / catalog.series.length;
  const cacheBytes = Math.floor(catalog.decodedBytes * options.cacheFraction);
  const window = Math.max(1, Math.floor((cacheBytes / perSeries) * 0.8));
  const policy = {
    ...DEFAULT_SAMPLING_POLICY,
    negativesPerEpoch: catalog.series.length * options.negativesPerSeries,
    shuffleWindow: window,
  };
  const plans = new PlanCache(catalog.series);
  const epoch = async (rankGroups: number): Promise<ReplicaGroupsRun> => {
    const outcomes = { hit: 0, miss: 0, coalesced: 0 };
    const requests: CropRequest[] = Array.from({ length: options.replicas }, () => ({
      datasetName: catalog.name,
      dataset: {
        catalog,
        plans,
        cache: new VolumeCache<number>({
          maxBytes: cacheBytes,
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
    const plan = plans.get(policy, 1n, 0);
    const { worldSize, batchSize } = options;
    const steps = stepsInEpoch(plan.size, worldSize, batchSize);
    const grouping = { rankGroups, stepsInEpoch: steps };
    for (let step = 0; step < steps; step++) {
      for (let rank = 0; rank < worldSize; rank++) {
        const positions = Array.from({ length: batchSize }, (_, slot) =>
          planPosition(step, rank, slot, worldSize, batchSize, grouping),
        );
        const request = requests[rank % options.replicas]!;
        await assembleBatch(request, plan, positions, { step, stepsInEpoch: steps, rank, worldSize });
      }
    }
    const loads = requests.reduce((sum, request) => sum + request.dataset.cache.loads, 0);
    return {
      rankGroups,
      hitRatio: outcomes.hit / (outcomes.hit + outcomes.miss + outcomes.coalesced),
      loadsPerSeries: loads / catalog.series.length,
    };
  };
  const interleaved = await epoch(1);
  const grouped = await epoch(options.replicas);
  return { window, interleaved, grouped };
}
