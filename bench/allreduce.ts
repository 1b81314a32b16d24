import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { formatTable } from '../common/format-table.js';
import { freeLoopbackPort } from '../common/free-loopback-port.js';
import { VNET_PAPER, VNET_TINY, vnetParameterCount } from '../trainer/model/vnet-config.js';
import type { AllReducePlan } from './allreduce-rank.js';

const RANK_SCRIPT = new URL('./allreduce-rank.ts', import.meta.url).pathname;

export interface AllReduceRun {
  readonly table: string;
  readonly json: Record<string, number>;
}

/**
 * (k) Ring all-reduce between two processes on loopback: MB/s of float32 gradients for the parameter counts
 * of the tiny and the paper V-Net, and the per-step overhead (the time to all-reduce one value). Sizes
 * alternate round by round, so a slow spell of the machine hits every size alike; medians are reported.
 */
export async function benchAllReduce(options: { quick: boolean }): Promise<AllReduceRun> {
  const tiny = vnetParameterCount(VNET_TINY);
  const paper = vnetParameterCount(VNET_PAPER);
  const plan: AllReducePlan = {
    rounds: options.quick ? 1 : 3,
    sizes: [
      { name: 'one value (per-step overhead)', values: 1, steps: options.quick ? 10 : 50 },
      {
        name: `tiny V-Net (${tiny.toLocaleString('en')} parameters)`,
        values: tiny,
        steps: options.quick ? 3 : 10,
      },
      {
        name: `paper V-Net (${paper.toLocaleString('en')} parameters)`,
        values: options.quick ? Math.round(paper / 16) : paper,
        steps: options.quick ? 1 : 2,
      },
    ],
  };
  const port = await freeLoopbackPort();
  const ranks = [0, 1].map((rank) =>
    spawn(
      process.execPath,
      ['--import', 'tsx', RANK_SCRIPT, String(rank), String(port), JSON.stringify(plan)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    ),
  );
  let output = '';
  ranks[0]!.stdout!.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const codes = await Promise.all(
    ranks.map(async (child) => (await once(child, 'exit'))[0] as number | null),
  );
  if (codes.some((code) => code !== 0)) throw new Error(`an all-reduce rank exited with ${codes.join(', ')}`);
  const seconds = JSON.parse(output.trim().split('\n').at(-1)!) as number[][];
  const median = (values: readonly number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rows = plan.sizes.map((size, i) => {
    const s = median(seconds[i]!);
    return { size, s, mbPerSecond: (size.values * 4) / 1e6 / s };
  });
  const table = formatTable(
    ['all-reduce, 2 processes on loopback', 'MB per step', 'median ms per step', 'MB/s', 'steps'],
    rows.map(({ size, s, mbPerSecond }, i) => [
      size.name,
      ((size.values * 4) / 1e6).toFixed(size.values < 1000 ? 6 : 1),
      (s * 1000).toFixed(2),
      size.values < 1000 ? '-' : mbPerSecond.toFixed(0),
      String(seconds[i]!.length),
    ]),
  );
  return {
    table,
    json: {
      allreduce_overhead_ms: Number((rows[0]!.s * 1000).toFixed(3)),
      allreduce_tiny_ms: Number((rows[1]!.s * 1000).toFixed(1)),
      allreduce_tiny_mb_per_s: Math.round(rows[1]!.mbPerSecond),
      allreduce_paper_ms: Number((rows[2]!.s * 1000).toFixed(1)),
      allreduce_paper_mb_per_s: Math.round(rows[2]!.mbPerSecond),
    },
  };
}
