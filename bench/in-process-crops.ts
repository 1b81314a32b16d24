import { assembleBatch } from '../server/batches/assemble-batch.js';
import { BatchMemory } from '../server/batches/batch-memory.js';
import type { CropRequest } from '../server/batches/crop-request.js';
import { PlanCache } from '../server/batches/plan-cache.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/load-catalog-volume.js';
import { ServerMetrics } from '../server/metrics/server-metrics.js';
import { planPosition, stepsInEpoch } from '../server/sampling/epoch-steps.js';
import { ALL_SERIES } from '../server/sampling/series-split.js';
import { DEFAULT_SAMPLING_POLICY } from '../server/sampling/types.js';
import { DEFAULT_SERVICE_LIMITS } from '../server/service/service-limits.js';
import { TrainerStatsStore } from '../server/service/trainer-stats-store.js';

export interface InProcessResult {
  readonly series: number;
  readonly warmLoadSeconds: number;
  readonly loadsPerSeries: number;
  readonly loadsAfterAllRuns: number;
  readonly crops: number;
  readonly seconds: number;
  readonly cropsPerSecond: number;
  readonly cropsPerSecondFloat32: number;
  /** Alternating rounds without and with the server's metrics calls per batch. */
  readonly metricsOffCropsPerSecond: readonly number[];
  readonly metricsOnCropsPerSecond: readonly number[];
}

/**
 * (a) Crops per second assembled in-process from a warm cache: plan, crop and encode into wire-ready
 * batches, with no network. Also (d): loads per series when the cache holds the whole data set.
 */
export async function benchInProcess(
  dir: string,
  options: { seconds: number; batchSize: number; crop: readonly [number, number, number] },
): Promise<InProcessResult> {
  const catalog = await buildCatalog({ source: dir });
  const cache = new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    load: (index) => loadCatalogVolume(catalog.series[index]!),
  });
  const plans = new PlanCache(catalog.series);
  const policy = { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: catalog.series.length * 50 };
  const base: Omit<CropRequest, 'dtype'> = {
    datasetName: catalog.name,
    dataset: { catalog, cache, plans },
    seed: 1n,
    epoch: 0,
    policy,
    cropSize: options.crop,
    includeMask: true,
    split: ALL_SERIES,
  };
  // (d) One whole epoch from a cold cache that can hold the data set: every series should load exactly once.
  const warmStarted = performance.now();
  {
    const request: CropRequest = { ...base, dtype: 'uint8' };
    const plan = await plans.get(policy, request.seed, request.epoch);
    const steps = stepsInEpoch(plan.size, 1, options.batchSize);
    for (let step = 0; step < steps; step++) {
      const positions = Array.from({ length: options.batchSize }, (_, slot) =>
        planPosition(step, 0, slot, 1, options.batchSize),
      );
      await assembleBatch(request, plan, positions, { step, stepsInEpoch: steps, rank: 0, worldSize: 1 });
    }
  }
  const warmLoadSeconds = (performance.now() - warmStarted) / 1000;
  const loadsFirstEpoch = cache.loads;

  const run = async (dtype: 'uint8' | 'float32', seconds: number, metrics?: ServerMetrics) => {
    const request: CropRequest = { ...base, dtype };
    const plan = await plans.get(policy, request.seed, request.epoch);
    const steps = stepsInEpoch(plan.size, 1, options.batchSize);
    let crops = 0;
    // As a stream does: batch buffers come from the server's batch memory and are reused once sent (here:
    // at once).
    const memory = new BatchMemory({ budgetBytes: DEFAULT_SERVICE_LIMITS.batchMemoryBytes });
    const started = performance.now();
    for (let step = 0; performance.now() - started < seconds * 1000; step = (step + 1) % steps) {
      const positions = Array.from({ length: options.batchSize }, (_, slot) =>
        planPosition(step, 0, slot, 1, options.batchSize),
      );
      const { batch, timings } = await assembleBatch(
        request,
        plan,
        positions,
        { step, stepsInEpoch: steps, rank: 0, worldSize: 1 },
        undefined,
        memory,
      );
      memory.release(batch.backing);
      // What a stream reports per batch when metrics are on (the cache reports through its events, which
      // this loop's cache does not have: one call per distinct series, fewer than the batch's).
      metrics?.batchSent({
        bytes: batch.bytes.length,
        samples: options.batchSize,
        timings,
        batchSeconds: 0.001,
        backpressureSeconds: 0,
      });
      if (metrics) for (let i = 0; i < options.batchSize; i++) metrics.cacheOutcome('hit');
      crops += options.batchSize;
    }
    const elapsed = (performance.now() - started) / 1000;
    return { crops, seconds: elapsed, perSecond: crops / elapsed };
  };
  await run('uint8', 0.5); // warm the JIT
  const bytes = await run('uint8', options.seconds);
  const floats = await run('float32', Math.max(1, options.seconds / 2));
  // (f') The metrics' own cost per batch, in one process: alternate rounds without and with a real registry.
  const metrics = new ServerMetrics(
    { bytesHeld: () => 0, capacityBytes: 1, loadsRunning: () => 0, loadsQueued: () => 0 },
    new TrainerStatsStore(60_000),
  );
  const off: number[] = [];
  const on: number[] = [];
  for (let round = 0; round < 3; round++) {
    off.push((await run('uint8', Math.max(1, options.seconds / 4))).perSecond);
    on.push((await run('uint8', Math.max(1, options.seconds / 4), metrics)).perSecond);
  }
  return {
    series: catalog.series.length,
    warmLoadSeconds,
    loadsPerSeries: loadsFirstEpoch / catalog.series.length,
    loadsAfterAllRuns: cache.loads,
    crops: bytes.crops,
    seconds: bytes.seconds,
    cropsPerSecond: bytes.perSecond,
    cropsPerSecondFloat32: floats.perSecond,
    metricsOffCropsPerSecond: off,
    metricsOnCropsPerSecond: on,
  };
}
