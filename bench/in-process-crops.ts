import type { StreamRequest } from '../server/batches/crop-request.js';
import { PlanCache } from '../server/batches/plan-cache.js';
import type { BatchSent } from '../server/batches/stream-observer.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { DEFAULT_SAMPLING_POLICY } from '../server/sampling/types.js';
import { PrometheusTelemetry } from '../server/telemetry/prometheus-telemetry.js';
import type { Telemetry } from '../server/telemetry/telemetry.js';
import { benchStreamDeps, benchStreamRequest } from './in-process-stream.js';

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
 * (a) Crops per second assembled in-process from a warm cache: the server's batch pipeline
 * (streamReadyBatches: plan, prefetch, crop and encode into wire-ready batches), with no network. Also (d): loads per series when the cache holds the whole data set.
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
  const request = (dtype: StreamRequest['dtype']) =>
    benchStreamRequest({
      datasetName: catalog.name,
      dataset: { catalog, cache, plans },
      policy,
      cropSize: options.crop,
      dtype,
      batchSize: options.batchSize,
    });
  // As a stream does: batches prepared ahead, their buffers from the server's batch memory, each given back
  // once "sent" (here: at once).
  const deps = benchStreamDeps('bench');
  // (d) One whole epoch from a cold cache that can hold the data set: every series should load exactly once.
  const warmStarted = performance.now();
  for await (const ready of streamReadyBatches(request('uint8'), new AbortController().signal, deps)) {
    ready.release();
  }
  const warmLoadSeconds = (performance.now() - warmStarted) / 1000;
  const loadsFirstEpoch = cache.loads;

  const run = async (dtype: 'uint8' | 'float32', seconds: number, metrics?: Telemetry) => {
    const dtypeRequest = request(dtype);
    // What a stream reports per batch when metrics are on (the cache reports through its events, which
    // this cache does not have: one call per distinct series, fewer than the batch's).
    const observer = metrics ? { onBatch: (sent: BatchSent) => metrics.streams.onBatch?.(sent) } : undefined;
    let crops = 0;
    const started = performance.now();
    const timeLeft = () => performance.now() - started < seconds * 1000;
    // Epoch after epoch (the same one again) until the time is up.
    while (timeLeft()) {
      for await (const ready of streamReadyBatches(dtypeRequest, new AbortController().signal, {
        ...deps,
        observer,
      })) {
        ready.release();
        if (metrics) for (let i = 0; i < options.batchSize; i++) metrics.cache.onOutcome('hit');
        crops += options.batchSize;
        if (!timeLeft()) break;
      }
    }
    const elapsed = (performance.now() - started) / 1000;
    return { crops, seconds: elapsed, perSecond: crops / elapsed };
  };
  await run('uint8', 0.5); // warm the JIT
  const bytes = await run('uint8', options.seconds);
  const floats = await run('float32', Math.max(1, options.seconds / 2));
  // (f') The metrics' own cost per batch, in one process: alternate rounds without and with a real registry.
  const metrics = new PrometheusTelemetry();
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
