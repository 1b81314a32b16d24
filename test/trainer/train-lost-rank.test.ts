import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningCommand, spawnVoxelfeed } from '../../bin/demo/spawn-command.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { loadLatestCheckpoint } from '../../trainer/checkpoint/checkpoint-store.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const PEER_TIMEOUT_S = 5;

/** Two `voxelfeed train` processes joined on 127.0.0.1; one is killed mid-run. */
describe('voxelfeed train when a rank is lost', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let root: string;
  const running: RunningCommand[] = [];

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 22n });
    server = await startTestServer({ data: dataset.dir });
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-lost-rank-'));
  });

  after(async () => {
    for (const command of running) command.child.kill('SIGKILL');
    await server?.close();
    await dataset?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  function startRank(rank: number, masterPort: number, extra: readonly string[]): RunningCommand {
    const command = spawnVoxelfeed([
      'train',
      ...['--server', server.address, '--rank', String(rank), '--world-size', '2', '--job', 'lost-rank'],
      ...['--model', 'tiny', '--backend', 'cpu', '--crop', '8,16,16', '--batch', '2', '--seed', '5'],
      ...['--negatives', '3', '--epochs', '1000', '--metrics-port', 'off', '--log-every', '1'],
      ...['--master-addr', '127.0.0.1', '--master-port', String(masterPort)],
      ...['--peer-timeout', String(PEER_TIMEOUT_S), '--rendezvous-timeout', '60'],
      ...['--checkpoint-dir', path.join(root, `ckpt-rank${rank}`), '--checkpoint-every', '2'],
      ...extra,
    ]);
    running.push(command);
    return command;
  }

  it('stops the other rank within the peer timeout with one line naming the lost rank and --resume, and resumes after', {
    timeout: 240_000,
  }, async () => {
    const masterPort = await freeLoopbackPort();
    const rank0 = startRank(0, masterPort, ['--steps', '100000']);
    const rank1 = startRank(1, masterPort, ['--steps', '100000']);
    // Both train: rank 0 has written a checkpoint (every 2 steps).
    await pollUntil(async () => (await loadLatestCheckpoint(path.join(root, 'ckpt-rank0'))) ?? undefined, {
      timeoutMs: 120_000,
      describe: () => `no checkpoint of rank 0 yet; rank 0 said:\n${rank0.stderr()}`,
    });
    const killedAt = performance.now();
    rank1.child.kill('SIGKILL');
    const code = await rank0.exited;
    const seconds = (performance.now() - killedAt) / 1000;
    assert.equal(code, 1);
    assert.ok(
      seconds < PEER_TIMEOUT_S + 20,
      `rank 0 stopped ${seconds.toFixed(1)} s after rank 1 was killed`,
    );
    const lines = rank0
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('voxelfeed train:'));
    assert.equal(lines.length, 1, rank0.stderr());
    assert.match(lines[0]!, /rank 1\b.*--resume/);
    assert.doesNotMatch(rank0.stderr(), /^\s+at /m, 'no stack trace');

    // Restarted with --resume, both ranks go on from rank 0's last checkpoint.
    const saved = await loadLatestCheckpoint(path.join(root, 'ckpt-rank0'));
    assert.ok(saved !== null && saved.globalStep >= 2, 'rank 0 wrote a checkpoint before the loss');
    const port = await freeLoopbackPort();
    const until = String(saved.globalStep + 2);
    const again = [
      startRank(0, port, ['--steps', until, '--resume']),
      startRank(1, port, ['--steps', until, '--resume']),
    ];
    const codes = await Promise.all(again.map((command) => command.exited));
    assert.deepEqual(codes, [0, 0], again.map((command) => command.stderr()).join('\n'));
    const summaries = again.map((command) => JSON.parse(command.stdout().trim().split('\n').at(-1)!));
    for (const summary of summaries) assert.equal(summary.global_step, saved.globalStep + 2);
    assert.equal(summaries[0].weights_sha256, summaries[1].weights_sha256);
  });
});
