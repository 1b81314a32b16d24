import { formatTable } from '../../common/format-table.js';
import type { LoadResult } from './run-load.js';

const ms = (value: number) => value.toFixed(value < 10 ? 2 : 1);

/** Rates of a run: per second of the whole run, so a run cut short by --duration is not flattered. */
export function loadRates(result: LoadResult): {
  requestsPerSecond: number;
  cropsPerSecond: number;
  megabytesPerSecond: number;
} {
  const seconds = Math.max(result.seconds, 1e-9);
  return {
    requestsPerSecond: result.calls / seconds,
    cropsPerSecond: result.crops / seconds,
    megabytesPerSecond: result.bytes / 1e6 / seconds,
  };
}

/** The table a person reads, then one JSON line for scripts (the bench/ convention). */
export function formatLoadReport(result: LoadResult, where: string): string {
  const rates = loadRates(result);
  const what =
    result.call === 'get-sample'
      ? `get-sample, 1 crop ${result.crop.join('x')} per call`
      : `stream-batches, ${result.steps} batches of ${result.batchSize} crops ${result.crop.join('x')} per call`;
  const failed = result.calls - result.ok;
  const latency = result.latencyMs;
  const rows: Array<[string, string]> = [
    ['call', what],
    ['target', `${result.target} (${where})`],
    ['concurrency', String(result.concurrency)],
    ['calls finished / asked', `${result.calls} / ${result.total}`],
    ['calls interrupted by --duration', String(result.interrupted)],
    ['seconds (limit)', `${result.seconds.toFixed(2)} (${result.durationSeconds})`],
    ['requests/s', rates.requestsPerSecond.toFixed(1)],
    ['crops/s', rates.cropsPerSecond.toFixed(0)],
    ['MB/s (image + mask)', rates.megabytesPerSecond.toFixed(1)],
    [
      `latency p50 / p95 / p99 / max, ms (per ${result.latencyUnit})`,
      latency === null
        ? 'none timed'
        : `${ms(latency.p50)} / ${ms(latency.p95)} / ${ms(latency.p99)} / ${ms(latency.max)}`,
    ],
    ['errors', failed === 0 ? '0' : `${failed}`],
    ...Object.entries(result.errors).map(([code, count]): [string, string] => [`  ${code}`, String(count)]),
  ];
  const json = {
    tool: result.tool,
    call: result.call,
    target: result.target,
    concurrency: result.concurrency,
    total: result.total,
    duration_limit_s: result.durationSeconds,
    batch_size: result.batchSize,
    steps: result.steps,
    crop: result.crop,
    calls: result.calls,
    ok: result.ok,
    interrupted: result.interrupted,
    errors: result.errors,
    batches: result.batches,
    crops: result.crops,
    bytes: result.bytes,
    seconds: Number(result.seconds.toFixed(3)),
    requests_per_s: Number(rates.requestsPerSecond.toFixed(1)),
    crops_per_s: Math.round(rates.cropsPerSecond),
    mb_per_s: Number(rates.megabytesPerSecond.toFixed(1)),
    latency_unit: result.latencyUnit,
    latency_ms:
      latency === null
        ? null
        : {
            p50: Number(latency.p50.toFixed(3)),
            p95: Number(latency.p95.toFixed(3)),
            p99: Number(latency.p99.toFixed(3)),
            max: Number(latency.max.toFixed(3)),
          },
  };
  // Messages go under the table: one can be a paragraph long.
  const messages = Object.entries(result.errorMessages).map(([code, message]) => `${code}: ${message}\n`);
  const because = messages.length === 0 ? '' : `\nfirst message of each error code:\n${messages.join('')}`;
  return `${formatTable(['measure', 'value'], rows)}\n${because}\n${JSON.stringify(json)}\n`;
}
