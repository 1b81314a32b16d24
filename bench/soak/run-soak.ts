import { setTimeout as delay } from 'node:timers/promises';
import { parsePrometheusText, sumOf } from '../../bin/demo/prometheus-text.js';
import { createFeedClient } from '../../client/index.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import type { Shape3 } from '../../server/sampling/types.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { spawnServer } from '../../test/support/spawn-server.js';
import { memorySlopeMiBPerMinute } from './memory-slope.js';
import { processRssBytes } from './process-rss.js';
import { SETTLED_ALLOWANCE_BYTES, type SoakAllowance, soakAllowance } from './soak-allowance.js';
import { type StreamCounters, startSoakStreams } from './soak-streams.js';

export interface SoakRunOptions {
  /** A data set folder (LUNA16 layout or phantom), ideally many times larger than the cache once decoded. */
  readonly dataDir: string;
  readonly cacheBytes: number;
  readonly streams: number;
  readonly durationMs: number;
  /** Time between samples of RSS and throughput. */
  readonly sampleMs: number;
  /**
   * A stream that receives no batch for this long has stalled (default: `sampleMs`). Many streams of large
   * batches on few cores legitimately wait several seconds each for their next batch.
   */
  readonly stallMs?: number;
  readonly batchSize: number;
  readonly crop: Shape3;
  /**
   * How long to keep sampling once the streams have stopped (0: not at all): memory should fall back to
   * what the server keeps without traffic.
   */
  readonly idleMs?: number;
  /** Extra `voxelfeed serve` flags, e.g. ['--batch-memory', '128MiB']. */
  readonly serverArgs?: readonly string[];
}

/** Server gauges read from its /metrics with every sample, to tell where the memory goes. */
export const SOAK_GAUGES = {
  cacheBytes: 'voxelfeed_cache_bytes',
  loadsRunning: 'voxelfeed_cache_loads_running',
  loadsQueued: 'voxelfeed_cache_loads_queued',
  heapUsedBytes: 'voxelfeed_nodejs_heap_size_used_bytes',
  externalBytes: 'voxelfeed_nodejs_external_memory_bytes',
  /** Encoded batch buffers, all states (in use, free, awaiting collection). */
  batchMemoryBytes: 'voxelfeed_batch_memory_bytes',
  batchMemoryCapacityBytes: 'voxelfeed_batch_memory_capacity_bytes',
} as const;
export type SoakGauges = { readonly [K in keyof typeof SOAK_GAUGES]: number | null };

/** One reading, cumulative since the streams started. */
export interface SoakSample {
  readonly seconds: number;
  readonly rssBytes: number;
  /** The server's own view at the same moment (null where /metrics had no value). */
  readonly gauges: SoakGauges;
  readonly crops: number;
  readonly bytes: number;
  /** Batches received so far by each stream, by rank. */
  readonly batchesByStream: readonly number[];
  readonly retries: number;
}

export interface SoakResult {
  readonly options: SoakRunOptions;
  readonly series: number;
  /** Image + mask bytes of the whole data set, decoded. */
  readonly datasetBytes: number;
  /** The server's RSS once listening and answering, before any stream. */
  readonly idleRssBytes: number;
  readonly samples: readonly SoakSample[];
  /** Samples taken after the streams stopped (`idleMs`); their `seconds` go on from the streaming phase. */
  readonly idleSamples: readonly SoakSample[];
  /** RSS at the end of the idle phase; null without one. */
  readonly settledRssBytes: number | null;
  readonly streams: readonly StreamCounters[];
  readonly maxRssBytes: number;
  /** Memory beyond idle + cache that the service's limits allow, by part. */
  readonly allowance: SoakAllowance;
  /** idle RSS + cache + allowance: what the server should stay under. */
  readonly boundBytes: number;
  /** idle RSS + cache + SETTLED_ALLOWANCE_BYTES: where RSS must be back at the end of the idle phase. */
  readonly settledBoundBytes: number;
  /** Least-squares RSS growth over the second half of the run; null for too few samples. */
  readonly slopeMiBPerMinute: number | null;
  readonly seconds: number;
  /** `voxelfeed serve`'s exit code after SIGTERM (0: a clean shutdown). */
  readonly serverExitCode: number | null;
  /** Error lines (level error or fatal) the server logged. */
  readonly serverProblems: readonly string[];
}

/**
 * A bounded soak: starts `voxelfeed serve` as its own process with a cache of `cacheBytes`, measures its
 * idle RSS, then runs `streams` trainer-like streams over loopback for `durationMs`, sampling the server's
 * RSS and the crops received every `sampleMs`. `onSample` sees each sample as it is taken (progress output).
 */
export async function runSoak(
  options: SoakRunOptions,
  onSample: (sample: SoakSample) => void = () => {},
): Promise<SoakResult> {
  const metricsPort = await freeLoopbackPort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const server = await spawnServer([
    '--metrics-port',
    String(metricsPort),
    '--data',
    options.dataDir,
    '--cache-bytes',
    String(options.cacheBytes),
    '--log-level',
    'warn',
    ...(options.serverArgs ?? []),
  ]);
  const pid = server.child.pid!;
  const stopStreams = new AbortController();
  let streams: ReturnType<typeof startSoakStreams> | null = null;
  let serverExitCode: number | null = null;
  try {
    const probe = createFeedClient({ address: server.address });
    const info = await probe.datasetInfo().finally(() => probe.close());
    const voxels = info.seriesInfo.map((series) => series.shape.reduce((product, size) => product * size, 1));
    const datasetBytes = 2 * voxels.reduce((sum, count) => sum + count, 0);
    // The server's own --batch-memory; a server without the gauge gets the documented default.
    const capacity = (await readGauges(metricsUrl)).batchMemoryCapacityBytes;
    const allowance = soakAllowance({
      batchMemoryBytes: capacity ?? DEFAULT_SERVICE_LIMITS.batchMemoryBytes,
      seriesVoxels: Math.max(0, ...voxels),
    });
    const idleRssBytes = await processRssBytes(pid);
    streams = startSoakStreams(
      {
        address: server.address,
        streams: options.streams,
        batchSize: options.batchSize,
        crop: options.crop,
        // About 4 negatives per series: epochs of several times the series count, so each spans the data set.
        negativesPerEpoch: 4 * info.series,
      },
      stopStreams.signal,
    );
    const counters = streams.counters;
    const begun = performance.now();
    const takeSample = async (): Promise<SoakSample> => {
      const sample: SoakSample = {
        seconds: (performance.now() - begun) / 1000,
        rssBytes: await processRssBytes(pid),
        gauges: await readGauges(metricsUrl),
        crops: counters.reduce((sum, stream) => sum + stream.crops, 0),
        bytes: counters.reduce((sum, stream) => sum + stream.bytes, 0),
        batchesByStream: counters.map((stream) => stream.batches),
        retries: counters.reduce((sum, stream) => sum + stream.retries, 0),
      };
      onSample(sample);
      return sample;
    };
    const samplesUntil = async (endMs: number): Promise<SoakSample[]> => {
      const taken: SoakSample[] = [];
      for (;;) {
        const left = endMs - (performance.now() - begun);
        if (left <= 0) return taken;
        await delay(Math.min(options.sampleMs, left));
        taken.push(await takeSample());
      }
    };
    const samples = await samplesUntil(options.durationMs);
    stopStreams.abort();
    await streams.done;
    const seconds = (performance.now() - begun) / 1000;
    const idleSamples = await samplesUntil(seconds * 1000 + (options.idleMs ?? 0));
    serverExitCode = await server.stop();
    const maxRssBytes = Math.max(
      idleRssBytes,
      ...[...samples, ...idleSamples].map((sample) => sample.rssBytes),
    );
    return {
      options,
      series: info.series,
      datasetBytes,
      idleRssBytes,
      samples,
      idleSamples,
      settledRssBytes: idleSamples.at(-1)?.rssBytes ?? null,
      streams: counters.map((stream) => ({ ...stream })),
      maxRssBytes,
      allowance,
      boundBytes: idleRssBytes + options.cacheBytes + allowance.totalBytes,
      settledBoundBytes: idleRssBytes + options.cacheBytes + SETTLED_ALLOWANCE_BYTES,
      slopeMiBPerMinute: memorySlopeMiBPerMinute(
        samples.map((sample) => ({ seconds: sample.seconds, value: sample.rssBytes })),
      ),
      seconds,
      serverExitCode,
      serverProblems: server
        .stderr()
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line)),
    };
  } finally {
    stopStreams.abort();
    await streams?.done;
    if (serverExitCode === null) await server.stop('SIGKILL');
  }
}

/**
 * The gauges from the server's /metrics, each summed over its label sets (a gauge split by labels adds up to
 * the whole); null for a series the page does not have.
 */
async function readGauges(url: string): Promise<SoakGauges> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  // Non-finite samples (NaN, +Inf) say nothing about memory: they count as missing.
  const samples = parsePrometheusText(await response.text()).filter((sample) =>
    Number.isFinite(sample.value),
  );
  const pick = (name: string) =>
    samples.some((sample) => sample.name === name) ? sumOf(samples, name) : null;
  return {
    cacheBytes: pick(SOAK_GAUGES.cacheBytes),
    loadsRunning: pick(SOAK_GAUGES.loadsRunning),
    loadsQueued: pick(SOAK_GAUGES.loadsQueued),
    heapUsedBytes: pick(SOAK_GAUGES.heapUsedBytes),
    externalBytes: pick(SOAK_GAUGES.externalBytes),
    batchMemoryBytes: pick(SOAK_GAUGES.batchMemoryBytes),
    batchMemoryCapacityBytes: pick(SOAK_GAUGES.batchMemoryCapacityBytes),
  };
}
