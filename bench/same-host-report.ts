import { formatTable } from '../common/format-table.js';
import { SAME_HOST_PATHS, type SameHostPath, type SameHostRun } from './same-host.js';

const LABELS: Record<SameHostPath, string> = {
  'raw-tcp': '(m) raw TCP loopback MB/s',
  normal: '(m) one stream, normal (gRPC) MB/s',
  'same-host': '(m) one stream, same-host (shared memory) MB/s',
};

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** (m)'s table and JSON line: each path's rounds, their mean, and the ratios to raw TCP. */
export function sameHostReport(run: SameHostRun): string {
  const raw = mean(run.rounds['raw-tcp']);
  const rows = SAME_HOST_PATHS.map((path) => [
    LABELS[path],
    run.rounds[path].map((value) => value.toFixed(0)).join(' / '),
    mean(run.rounds[path]).toFixed(0),
    (mean(run.rounds[path]) / raw).toFixed(2),
    path === 'same-host' ? '>= 1.00' : '',
  ]);
  const table = formatTable(['', 'rounds', 'mean', 'of raw TCP', 'target'], rows);
  const json = {
    same_host_message_bytes: run.messageBytes,
    same_host_raw_tcp_mb_per_s: run.rounds['raw-tcp'].map(Math.round),
    same_host_normal_mb_per_s: run.rounds.normal.map(Math.round),
    same_host_shared_mb_per_s: run.rounds['same-host'].map(Math.round),
    same_host_shared_over_raw_tcp: Number((mean(run.rounds['same-host']) / raw).toFixed(3)),
    same_host_shared_over_normal: Number(
      (mean(run.rounds['same-host']) / mean(run.rounds.normal)).toFixed(3),
    ),
  };
  return `${table}\n\n${JSON.stringify(json)}\n`;
}
