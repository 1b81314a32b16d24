import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';

const RANK_SCRIPT = new URL('./collective-rank.ts', import.meta.url).pathname;
const PEER_TIMEOUT_MS = 4000;

interface RankProcess {
  readonly child: ChildProcess;
  output: string;
  /** Resolves with what the rank printed last, once it has exited. */
  readonly exited: Promise<{ code: number | null; last: string }>;
}

function spawnRank(rank: number, worldSize: number, port: number): RankProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', RANK_SCRIPT, String(rank), String(worldSize), String(port), String(PEER_TIMEOUT_MS)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const rankProcess: RankProcess = {
    child,
    output: '',
    exited: once(child, 'exit').then(([code]) => ({
      code: code as number | null,
      last: rankProcess.output.trim().split('\n').at(-1) ?? '',
    })),
  };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    rankProcess.output += text;
  });
  return rankProcess;
}

/** Resolves once every rank has printed `step N` (bounded by the test's timeout). */
async function allReached(ranks: readonly RankProcess[], step: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!ranks.every((rank) => rank.output.includes(`step ${step}\n`))) {
    assert.ok(performance.now() < deadline, `the ranks did not reach step ${step}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a rank lost mid-run', { timeout: 180_000 }, () => {
  for (const [how, signal] of [
    ['killed (SIGKILL)', 'SIGKILL'],
    ['silent (SIGSTOP) beyond the peer timeout', 'SIGSTOP'],
  ] as const) {
    it(`stops every other rank within the peer timeout and a margin, naming it, when it is ${how}`, async () => {
      const worldSize = 3;
      const port = await freeLoopbackPort();
      const ranks = Array.from({ length: worldSize }, (_, rank) => spawnRank(rank, worldSize, port));
      try {
        await allReached(ranks, 3);
        const lost = 1;
        const t0 = performance.now();
        ranks[lost]!.child.kill(signal);
        const others = ranks.filter((_, rank) => rank !== lost);
        const results = await Promise.all(others.map((rank) => rank.exited));
        const seconds = (performance.now() - t0) / 1000;
        for (const result of results) {
          assert.equal(result.code, 3, result.last);
          assert.match(
            result.last,
            /^failed: rank 1 \(127\.0\.0\.1:\d+\) (left the job|did not answer|did not reach)/,
          );
        }
        // Bounded: the peer timeout, rank 0's window and the wait for its verdict, and a wide margin for load.
        assert.ok(seconds < PEER_TIMEOUT_MS / 1000 + 20, `the ranks took ${seconds} s to stop`);
      } finally {
        for (const rank of ranks) rank.child.kill('SIGKILL');
      }
    });
  }
});
