/**
 * One rank of the all-reduce benchmark (bench/allreduce.ts starts two). Each round all-reduces every size a
 * few times, sizes alternating round by round; rank 0 prints one JSON line: per size, the seconds of each step.
 * Usage: node --import tsx bench/allreduce-rank.ts RANK MASTER_PORT PLAN_JSON
 */
import { startProcessGroup } from '../trainer/collective/process-group.js';

export interface AllReducePlan {
  readonly sizes: readonly { readonly name: string; readonly values: number; readonly steps: number }[];
  readonly rounds: number;
}

const [rankText, portText, planText] = process.argv.slice(2) as [string, string, string];
const rank = Number(rankText);
const plan = JSON.parse(planText) as AllReducePlan;
const group = await startProcessGroup({
  rank,
  worldSize: 2,
  masterAddr: '127.0.0.1',
  masterPort: Number(portText),
  bindHost: '127.0.0.1',
  job: 'bench-allreduce',
  fingerprint: planText,
  startTimeoutMs: 60_000,
  peerTimeoutMs: 120_000,
});
const buffers = plan.sizes.map((size) => new Float32Array(size.values).fill(rank + 0.5));
const seconds: number[][] = plan.sizes.map(() => []);
let step = 0;
// Warm-up: one exchange of every size (connections, JIT, first allocations).
for (const buffer of buffers) await group.allReduceMean(buffer, step++);
for (let round = 0; round < plan.rounds; round++) {
  for (const [i, size] of plan.sizes.entries()) {
    for (let n = 0; n < size.steps; n++) {
      const started = performance.now();
      await group.allReduceMean(buffers[i]!, step++);
      seconds[i]!.push((performance.now() - started) / 1000);
    }
  }
}
await group.close();
if (rank === 0) console.log(JSON.stringify(seconds));
