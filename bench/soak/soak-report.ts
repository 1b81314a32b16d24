import { formatTable } from '../../common/format-table.js';
import { latencyPercentiles } from '../load/latency-percentiles.js';
import { runHalves } from './run-halves.js';
import type { SoakResult, SoakSample } from './run-soak.js';
import { SETTLED_ALLOWANCE_BYTES } from './soak-allowance.js';

const MIB = 1024 ** 2;
const mib = (bytes: number) => (bytes / MIB).toFixed(1);
/** Rows of the table over time; longer runs are shown in windows of several samples. */
const MAX_ROWS = 30;

/** Everything that makes a soak fail, each as a sentence; empty when it passed. */
export function soakProblems(result: SoakResult): string[] {
  const problems: string[] = [];
  if (result.maxRssBytes > result.boundBytes) {
    problems.push(
      `the server's RSS reached ${mib(result.maxRssBytes)} MiB, over the bound of ${mib(result.boundBytes)} MiB (idle + cache + allowance)`,
    );
  }
  if (result.settledRssBytes !== null && result.settledRssBytes > result.settledBoundBytes) {
    problems.push(
      `the server's RSS was still ${mib(result.settledRssBytes)} MiB after ${idleSeconds(result).toFixed(0)} s without traffic, over ${mib(result.settledBoundBytes)} MiB (idle + cache + ${mib(SETTLED_ALLOWANCE_BYTES)})`,
    );
  }
  for (const stream of result.streams) {
    if (stream.error !== null) problems.push(`stream ${stream.rank} failed: ${stream.error}`);
  }
  // Windows of at least most of the stall time (a sample interval by default): the last sample of a run may
  // come moments after the one before it, too soon for a slow stream's next batch.
  const stallMs = Math.max(result.options.sampleMs, result.options.stallMs ?? 0);
  const minWindowSeconds = (0.9 * stallMs) / 1000;
  let previous: SoakSample | null = null;
  for (const sample of result.samples) {
    if (sample.seconds - (previous?.seconds ?? 0) < minWindowSeconds) continue;
    sample.batchesByStream.forEach((batches, rank) => {
      if (batches <= (previous?.batchesByStream[rank] ?? 0) && result.streams[rank]?.error === null) {
        problems.push(
          `stream ${rank} received no batch between ${(previous?.seconds ?? 0).toFixed(1)} s and ${sample.seconds.toFixed(1)} s`,
        );
      }
    });
    previous = sample;
  }
  if (result.serverExitCode !== 0) {
    problems.push(`voxelfeed serve exited with ${result.serverExitCode} after SIGTERM, not 0`);
  }
  if (result.serverProblems.length > 0) {
    problems.push(
      `the server logged ${result.serverProblems.length} error(s), first: ${result.serverProblems[0]}`,
    );
  }
  return problems;
}

/** How long the idle phase lasted: from the end of streaming to its last sample. */
function idleSeconds(result: SoakResult): number {
  return (result.idleSamples.at(-1)?.seconds ?? result.seconds) - result.seconds;
}

/** Median RSS of the samples in the first and the second half of the run: growth that spikes cannot fake. */
function medianRssByHalf(samples: readonly SoakSample[]): [number, number] | null {
  // The nearest-rank p50 is the lower median, sorted[floor((n - 1) / 2)]: an RSS that was actually observed.
  const median = (half: readonly SoakSample[]) =>
    latencyPercentiles(half.map((sample) => sample.rssBytes))?.p50 ?? null;
  const [first, second] = runHalves(samples).map(median);
  return first == null || second == null ? null : [first, second];
}

/**
 * The samples, those of the idle phase too, grouped into at most MAX_ROWS windows: RSS at the end and at
 * most, rates over the window.
 */
function timeRows(result: SoakResult): string[][] {
  const samples = [...result.samples, ...result.idleSamples];
  const per = Math.max(1, Math.ceil(samples.length / MAX_ROWS));
  const rows: string[][] = [];
  let start: SoakSample | null = null;
  for (let at = 0; at < samples.length; at += per) {
    const window = samples.slice(at, at + per);
    const end = window[window.length - 1]!;
    const seconds = end.seconds - (start?.seconds ?? 0);
    const slowest = Math.min(
      ...end.batchesByStream.map((batches, rank) => batches - (start?.batchesByStream[rank] ?? 0)),
    );
    const gauge = (value: number | null, format: (value: number) => string) =>
      value === null ? '-' : format(value);
    rows.push([
      end.seconds.toFixed(0),
      mib(end.rssBytes),
      mib(Math.max(...window.map((sample) => sample.rssBytes))),
      gauge(end.gauges.cacheBytes, mib),
      `${gauge(end.gauges.loadsRunning, String)} + ${gauge(end.gauges.loadsQueued, String)}`,
      gauge(end.gauges.heapUsedBytes, mib),
      gauge(end.gauges.externalBytes, mib),
      gauge(end.gauges.batchMemoryBytes, mib),
      ((end.crops - (start?.crops ?? 0)) / seconds).toFixed(0),
      ((end.bytes - (start?.bytes ?? 0)) / 1e6 / seconds).toFixed(1),
      (slowest / seconds).toFixed(1),
      String(end.retries),
    ]);
    start = end;
  }
  return rows;
}

/**
 * The table over time, the summary, and one JSON line (the bench/ convention). `problems` is
 * soakProblems(result), computed once by the caller, which also needs it for the exit status.
 */
export function formatSoakReport(result: SoakResult, machine: string, problems: readonly string[]): string {
  const { options } = result;
  const last = result.samples[result.samples.length - 1];
  const crops = last?.crops ?? 0;
  const cropsPerSecond = crops / Math.max(result.seconds, 1e-9);
  const maxLoads = (gauge: 'loadsRunning' | 'loadsQueued') =>
    Math.max(0, ...result.samples.map((sample) => sample.gauges[gauge] ?? 0));
  const slope = result.slopeMiBPerMinute;
  const halves = medianRssByHalf(result.samples);
  const epochs = result.streams.map((stream) => stream.epochs);
  const over = timeRows(result);
  const summary: Array<[string, string]> = [
    [
      'data set',
      `${result.series} series, ${mib(result.datasetBytes)} MiB decoded (${(result.datasetBytes / options.cacheBytes).toFixed(1)} x the cache)`,
    ],
    ['cache (--cache-bytes)', `${mib(options.cacheBytes)} MiB`],
    [
      'streams x batch, crop',
      `${options.streams} x ${options.batchSize}, ${options.crop.join('x')} + mask, uint8`,
    ],
    ['seconds streamed', result.seconds.toFixed(0)],
    ['server RSS idle, MiB', mib(result.idleRssBytes)],
    ['server RSS max, MiB', mib(result.maxRssBytes)],
    [
      `server RSS after ${idleSeconds(result).toFixed(0)} s without traffic, MiB`,
      result.settledRssBytes === null ? 'no idle phase' : mib(result.settledRssBytes),
    ],
    [
      'bound after traffic: idle + cache + settled allowance, MiB',
      `${mib(result.settledBoundBytes)} (${mib(result.idleRssBytes)} + ${mib(options.cacheBytes)} + ${mib(SETTLED_ALLOWANCE_BYTES)})`,
    ],
    [
      'server RSS max - idle - cache, MiB',
      mib(result.maxRssBytes - result.idleRssBytes - options.cacheBytes),
    ],
    [
      'allowance: working + loads in flight + --batch-memory, MiB',
      `${mib(result.allowance.totalBytes)} (${mib(result.allowance.workingBytes)} + ${mib(result.allowance.loadsInFlightBytes)} + ${mib(result.allowance.batchBufferBytes)})`,
    ],
    [
      'bound: idle + cache + allowance, MiB',
      `${mib(result.boundBytes)} (max RSS is ${((100 * result.maxRssBytes) / result.boundBytes).toFixed(0)}% of it)`,
    ],
    ['loads running / queued, max seen', `${maxLoads('loadsRunning')} / ${maxLoads('loadsQueued')}`],
    ['memory slope, second half, MiB/min', slope === null ? 'too few samples' : slope.toFixed(2)],
    [
      'median RSS, first half / second half, MiB',
      halves === null ? 'too few samples' : `${mib(halves[0])} / ${mib(halves[1])}`,
    ],
    ['crops/s, whole run', cropsPerSecond.toFixed(0)],
    ['epochs per stream, min / max', `${Math.min(...epochs)} / ${Math.max(...epochs)}`],
    ['client retries', String(last?.retries ?? 0)],
    ['server exit code after SIGTERM', String(result.serverExitCode)],
    ['verdict', problems.length === 0 ? 'pass' : `FAIL (${problems.length} problem(s), listed below)`],
  ];
  const json = {
    machine,
    minutes: Number((result.seconds / 60).toFixed(2)),
    streams: options.streams,
    batch_size: options.batchSize,
    crop: options.crop,
    series: result.series,
    dataset_mib: Number(mib(result.datasetBytes)),
    cache_mib: Number(mib(options.cacheBytes)),
    idle_rss_mib: Number(mib(result.idleRssBytes)),
    max_rss_mib: Number(mib(result.maxRssBytes)),
    idle_seconds_after: Number(idleSeconds(result).toFixed(1)),
    settled_rss_mib: result.settledRssBytes === null ? null : Number(mib(result.settledRssBytes)),
    settled_bound_mib: Number(mib(result.settledBoundBytes)),
    allowance_mib: {
      working: Number(mib(result.allowance.workingBytes)),
      loads_in_flight: Number(mib(result.allowance.loadsInFlightBytes)),
      batch_buffers: Number(mib(result.allowance.batchBufferBytes)),
    },
    max_loads_running: maxLoads('loadsRunning'),
    max_loads_queued: maxLoads('loadsQueued'),
    max_cache_mib: Number(mib(Math.max(0, ...result.samples.map((sample) => sample.gauges.cacheBytes ?? 0)))),
    bound_mib: Number(mib(result.boundBytes)),
    slope_mib_per_min: slope === null ? null : Number(slope.toFixed(3)),
    median_rss_mib_halves: halves === null ? null : halves.map((bytes) => Number(mib(bytes))),
    crops: crops,
    crops_per_s: Math.round(cropsPerSecond),
    epochs_min: Math.min(...epochs),
    retries: last?.retries ?? 0,
    stream_errors: result.streams.filter((stream) => stream.error !== null).length,
    server_exit_code: result.serverExitCode,
    rss_mib_over_time: [...result.samples, ...result.idleSamples].map((sample) => [
      Number(sample.seconds.toFixed(1)),
      Number(mib(sample.rssBytes)),
    ]),
    pass: problems.length === 0,
  };
  return [
    formatTable(
      [
        't, s',
        'RSS, MiB',
        'max RSS',
        'cache, MiB',
        'loads run + queued',
        'heap, MiB',
        'external, MiB',
        'batches, MiB',
        'crops/s',
        'MB/s',
        'slowest stream, batches/s',
        'retries',
      ],
      over,
    ),
    'RSS of the server process (/proc), at the end of each window and at most within it; cache, loads running + queued,',
    'V8 heap used, external memory (large batch buffers count at their 32 MiB capacity there, at the bytes',
    'written in RSS) and batch memory from its /metrics; rates over the window; rows after the streaming time',
    'are the idle phase.',
    '',
    formatTable(['soak', 'value'], summary),
    ...(problems.length === 0 ? [] : ['', ...problems.map((problem) => `- ${problem}`)]),
    '',
    JSON.stringify(json),
    '',
  ].join('\n');
}
