import { formatTable } from '../common/format-table.js';
import type { AllocationReading } from './allocation-meter.js';
import { ALLOCATION_CASES, type AllocationsResult } from './allocations.js';

/**
 * The table and the JSON line of a run: per batch, the median over rounds. GC share of time: pause time over
 * the round's wall time (the pipeline runs on the main thread, so that is the main thread's share); of CPU:
 * pause time over the process's CPU time, concurrent marking threads included. Pauses are wall time, so on a
 * busy machine the share of CPU reads high; the share of time less so.
 */
export function allocationsReport(result: AllocationsResult): {
  table: string;
  json: Record<string, unknown>;
} {
  const rows = ALLOCATION_CASES.map((kase) => {
    const rounds = result.rounds[kase];
    const med = (pick: (reading: AllocationReading) => number) => median(rounds.map(pick));
    return {
      kase,
      heapKiB: med((r) => r.heapBytes) / 1024 / result.batchesPerRound,
      externalKiB: med((r) => r.externalBytes) / 1024 / result.batchesPerRound,
      gcs: med((r) => r.gcCount) / result.batchesPerRound,
      gcMs: med((r) => r.gcMs) / result.batchesPerRound,
      ofTime: rounds.map((r) => r.gcMs / r.wallMs),
      ofCpu: rounds.map((r) => r.gcMs / r.cpuMs),
    };
  });
  const percent = (share: number) => `${(100 * share).toFixed(1)}%`;
  const table = formatTable(
    [
      'per batch (median of rounds)',
      'batch KiB',
      'JS heap KiB',
      'ArrayBuffer KiB',
      'GCs',
      'GC ms',
      'GC share of time (rounds)',
      'of CPU (median)',
    ],
    rows.map((row) => [
      row.kase,
      (result.batchBytes[row.kase] / 1024).toFixed(0),
      row.heapKiB.toFixed(1),
      row.externalKiB.toFixed(1),
      row.gcs.toFixed(3),
      row.gcMs.toFixed(3),
      row.ofTime.map(percent).join(' / '),
      percent(median(row.ofCpu)),
    ]),
  );
  const topSites = ALLOCATION_CASES.flatMap((kase) =>
    result.sites[kase]
      .slice(0, SITES_SHOWN)
      .map(({ site, bytes }, at) => [at === 0 ? kase : '', site, (bytes / 1024).toFixed(1)]),
  );
  const sitesTable = formatTable(
    ['case', 'where the JS heap bytes are allocated (sampled)', 'KiB per batch'],
    topSites,
  );
  const calibration = `meter calibration (measured / allocated): JS heap ${result.calibration.heapRatio.toFixed(3)}, ArrayBuffer ${result.calibration.externalRatio.toFixed(3)}`;
  const shares = (values: readonly number[]) => values.map((share) => Number(share.toFixed(4)));
  return {
    table: `${table}\n${calibration}\n\n${sitesTable}`,
    json: {
      series: result.series,
      batches_per_round: result.batchesPerRound,
      rounds: result.rounds.uint8.length,
      calibration_heap_ratio: Number(result.calibration.heapRatio.toFixed(4)),
      calibration_external_ratio: Number(result.calibration.externalRatio.toFixed(4)),
      ...Object.fromEntries(
        rows.map((row) => [
          row.kase.replace(', ', '_'),
          {
            heap_bytes_per_batch: Math.round(row.heapKiB * 1024),
            external_bytes_per_batch: Math.round(row.externalKiB * 1024),
            gcs_per_batch: Number(row.gcs.toFixed(4)),
            gc_ms_per_batch: Number(row.gcMs.toFixed(4)),
            gc_share_of_time: shares(row.ofTime),
            gc_share_of_cpu: shares(row.ofCpu),
            heap_sites_kib_per_batch: Object.fromEntries(
              result.sites[row.kase]
                .slice(0, SITES_SHOWN)
                .map(({ site, bytes }) => [site, Number((bytes / 1024).toFixed(1))]),
            ),
          },
        ]),
      ),
    },
  };
}

/** Allocation sites shown per case. */
const SITES_SHOWN = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
