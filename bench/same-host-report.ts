import { formatTable } from '../common/format-table.js';
import { SAME_HOST_PATHS, type SameHostPath, type SameHostRun } from './same-host.js';

const LABELS: Record<SameHostPath, string> = {
  'raw-tcp': '(n) raw TCP loopback MB/s',
  normal: '(n) one stream to TypeScript, normal (gRPC) MB/s',
  'same-host': '(n) one stream to TypeScript, same-host MB/s',
  'same-host-reused': '(n) one stream to TypeScript, same-host, reuseBuffers MB/s',
  'python-normal': '(n) one stream to Python, normal (gRPC) MB/s',
  'python-same-host': '(n) one stream to Python, same-host MB/s',
};

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** (m)'s table and JSON line: each path's rounds, their mean, the ratios to raw TCP, and CPU per GB. */
export function sameHostReport(run: SameHostRun): string {
  const mbs = (path: SameHostPath) => run.rounds[path].map((round) => round.mbPerS);
  const cpu = (path: SameHostPath, side: 'senderCpuSPerGb' | 'receiverCpuSPerGb') =>
    mean(run.rounds[path].map((round) => round[side]));
  const raw = mean(mbs('raw-tcp'));
  const rows = SAME_HOST_PATHS.map((path) => [
    LABELS[path],
    mbs(path)
      .map((value) => value.toFixed(0))
      .join(' / '),
    mean(mbs(path)).toFixed(0),
    (mean(mbs(path)) / raw).toFixed(2),
    `${cpu(path, 'senderCpuSPerGb').toFixed(2)} / ${cpu(path, 'receiverCpuSPerGb').toFixed(2)}`,
    path.includes('same-host') ? '>= 1.00' : '',
  ]);
  const table = formatTable(
    ['', 'rounds', 'mean', 'of raw TCP', 'CPU s/GB sender / receiver', 'target'],
    rows,
  );
  const json = {
    same_host_message_bytes: run.messageBytes,
    ...Object.fromEntries(
      SAME_HOST_PATHS.flatMap((path) => {
        const key = path.replaceAll('-', '_');
        return [
          [`same_host_${key}_mb_per_s`, mbs(path).map(Math.round)],
          [`same_host_${key}_sender_cpu_s_per_gb`, Number(cpu(path, 'senderCpuSPerGb').toFixed(3))],
          [`same_host_${key}_receiver_cpu_s_per_gb`, Number(cpu(path, 'receiverCpuSPerGb').toFixed(3))],
        ];
      }),
    ),
    same_host_shared_over_raw_tcp: Number((mean(mbs('same-host')) / raw).toFixed(3)),
    same_host_shared_over_normal: Number((mean(mbs('same-host')) / mean(mbs('normal'))).toFixed(3)),
    same_host_reused_over_raw_tcp: Number((mean(mbs('same-host-reused')) / raw).toFixed(3)),
    same_host_reused_over_normal: Number((mean(mbs('same-host-reused')) / mean(mbs('normal'))).toFixed(3)),
    same_host_python_shared_over_raw_tcp: Number((mean(mbs('python-same-host')) / raw).toFixed(3)),
    same_host_python_shared_over_normal: Number(
      (mean(mbs('python-same-host')) / mean(mbs('python-normal'))).toFixed(3),
    ),
  };
  return `${table}\n\n${JSON.stringify(json)}\n`;
}
