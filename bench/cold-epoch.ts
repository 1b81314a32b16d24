import { PlanCache } from '../server/batches/plan-cache.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import type { Catalog } from '../server/dataset/catalog/catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { DEFAULT_SAMPLING_POLICY } from '../server/sampling/types.js';
import { CropWorkers } from '../server/workers/crop-workers.js';
import { benchStreamDeps, benchStreamRequest } from './in-process-stream.js';

export interface ColdEpochResult {
  readonly series: number;
  readonly rounds: number;
  /** Seconds of one first epoch from an empty cache, per pool size, one entry per round. */
  readonly coldSeconds: ReadonlyMap<number, readonly number[]>;
  /** Of those, the seconds the main thread's event loop was busy (the rest it waited for I/O or workers). */
  readonly coldMainSeconds: ReadonlyMap<number, readonly number[]>;
  /**
   * CPU seconds of the whole process in it (every thread: main, workers, libuv's inflating, the kernel's
   * page faults): divided by the cores, the shortest that epoch could take on this machine.
   */
  readonly coldCpuSeconds: ReadonlyMap<number, readonly number[]>;
  /** Crops per second from a warm cache, per pool size and dtype, one entry per round. */
  readonly warmCropsPerSecond: ReadonlyMap<number, { uint8: number[]; float32: number[] }>;
  /** Main-thread busy microseconds per crop from a warm cache, per pool size and dtype, one entry per round. */
  readonly warmMainMicrosPerCrop: ReadonlyMap<number, { uint8: number[]; float32: number[] }>;
}

/**
 * The crop workers (`--workers`): (m) one first epoch from an empty cache, every series loaded once (read,
 * inflate, transpose: in the pool when there is one), with `coldPools` threads, and (n) in-process crops/s
 * from a warm cache with `warmPools` threads (0: the main thread), the server's batch pipeline as (a) runs
 * it. Pool sizes alternate within each round, so machine load drifts alike over all of them. Beside each
 * time, how long the main thread's event loop was busy: what the pool takes off it, which machine load
 * disturbs less than wall time.
 */
export async function benchColdEpoch(
  dir: string,
  options: {
    readonly rounds: number;
    readonly warmSeconds: number;
    readonly batchSize: number;
    readonly crop: readonly [number, number, number];
    readonly coldPools: readonly number[];
    readonly warmPools: readonly number[];
  },
): Promise<ColdEpochResult> {
  const catalog = await buildCatalog({ source: dir });
  const sizes = [...new Set([...options.coldPools, ...options.warmPools])].filter((size) => size > 0);
  const pools = new Map(sizes.map((threads) => [threads, new CropWorkers({ threads })]));
  try {
    // Threads start and compile their code before the clock runs: one load each.
    for (const pool of pools.values()) {
      const first = catalog.series[0]!;
      await Promise.all(
        Array.from({ length: pool.threads }, () => pool.loadSeries(first.imagePath, first.maskPath)),
      );
    }
    const coldSeconds = new Map(options.coldPools.map((size) => [size, [] as number[]]));
    const coldMainSeconds = new Map(options.coldPools.map((size) => [size, [] as number[]]));
    const coldCpuSeconds = new Map(options.coldPools.map((size) => [size, [] as number[]]));
    const warmMainMicrosPerCrop = new Map(
      options.warmPools.map((size) => [size, { uint8: [] as number[], float32: [] as number[] }]),
    );
    const warmCropsPerSecond = new Map(
      options.warmPools.map((size) => [size, { uint8: [] as number[], float32: [] as number[] }]),
    );
    let warmCache: VolumeCache<number> | null = null;
    for (let round = 0; round < options.rounds; round++) {
      for (const size of options.coldPools) {
        const cache = volumeCache(catalog, pools.get(size));
        const started = performance.now();
        const loop = performance.eventLoopUtilization();
        const cpu = process.cpuUsage();
        await streamFor(catalog, cache, pools.get(size), 'uint8', options, Number.POSITIVE_INFINITY);
        const { user, system } = process.cpuUsage(cpu);
        coldCpuSeconds.get(size)!.push((user + system) / 1e6);
        coldMainSeconds.get(size)!.push(performance.eventLoopUtilization(loop).active / 1000);
        coldSeconds.get(size)!.push((performance.now() - started) / 1000);
        if (cache.loads !== catalog.series.length) {
          throw new Error(`a cold epoch loaded ${cache.loads} volumes for ${catalog.series.length} series`);
        }
        warmCache = cache;
      }
      for (const size of options.warmPools) {
        warmCache ??= volumeCache(catalog, undefined);
        for (const dtype of ['uint8', 'float32'] as const) {
          const loop = performance.eventLoopUtilization();
          const run = await streamFor(
            catalog,
            warmCache,
            pools.get(size),
            dtype,
            options,
            options.warmSeconds,
          );
          const mainMs = performance.eventLoopUtilization(loop).active;
          warmCropsPerSecond.get(size)![dtype].push(run.crops / run.seconds);
          warmMainMicrosPerCrop.get(size)![dtype].push((1000 * mainMs) / run.crops);
        }
      }
    }
    return {
      series: catalog.series.length,
      rounds: options.rounds,
      coldSeconds,
      coldMainSeconds,
      coldCpuSeconds,
      warmCropsPerSecond,
      warmMainMicrosPerCrop,
    };
  } finally {
    for (const pool of pools.values()) await pool.close();
  }
}

function volumeCache(catalog: Catalog, workers: CropWorkers | undefined): VolumeCache<number> {
  const read = workers && ((image: string, mask: string) => workers.loadSeries(image, mask));
  return new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    maxConcurrentLoads: 4,
    load: (index) => loadCatalogVolume(catalog.series[index]!, undefined, read),
  });
}

/** One stream as the server runs it: whole epochs (the same one again) until `seconds` are up. */
async function streamFor(
  catalog: Catalog,
  cache: VolumeCache<number>,
  workers: CropWorkers | undefined,
  dtype: 'uint8' | 'float32',
  options: { readonly batchSize: number; readonly crop: readonly [number, number, number] },
  seconds: number,
): Promise<{ crops: number; seconds: number }> {
  const request = benchStreamRequest({
    datasetName: catalog.name,
    dataset: { catalog, cache, plans: new PlanCache(catalog.series), workers },
    policy: { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: catalog.series.length * 8 },
    cropSize: options.crop,
    dtype,
    batchSize: options.batchSize,
  });
  const deps = benchStreamDeps('bench');
  let crops = 0;
  const started = performance.now();
  const timeLeft = () => performance.now() - started < seconds * 1000;
  do {
    for await (const ready of streamReadyBatches(request, new AbortController().signal, deps)) {
      ready.release();
      crops += options.batchSize;
      if (!timeLeft()) break;
    }
  } while (timeLeft() && Number.isFinite(seconds));
  return { crops, seconds: (performance.now() - started) / 1000 };
}
