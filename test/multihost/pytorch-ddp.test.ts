import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parsePrometheusText } from '../../bin/demo/prometheus-text.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { logLines, VOXELFEED_BIN } from '../support/spawn-server.js';
import { curlInNetns } from './curl-in-netns.js';
import { createNetnsHosts, type NetnsHosts, netnsUnavailable } from './netns-hosts.js';
import { exitedCleanly, type NetnsProcess, spawnInNetns, spawnProgramInNetns } from './netns-process.js';
import { PYTHON, pythonTorchUnavailable } from './python-torch-unavailable.js';
import { waitForMetricsLine } from './wait-for-metrics-line.js';

const exec = promisify(execFile);
const PYTHON_ROOT = fileURLToPath(new URL('../../client/python', import.meta.url));
const WORLD = 2;
const BATCH = 2;
const EPOCHS = 2;
const STEPS_PER_EPOCH = 2;
const SEED = 1;
const JOB = 'multihost-ddp';
// The namespaces are new and empty, so any port is free in the first trainer host's; torch's static
// rendezvous needs a real one (port 0 would be handed to the other rank as is).
const MASTER_PORT = '29500';
const DONE =
  /^\[rank (\d+)\] done: (\d+) steps \(global \d+\), (\d+) samples, .* weights sha256 ([0-9a-f]{64})$/m;
const STEP = /^\[rank 0\] epoch (\d+) step (\d+)\/\d+ \(global \d+\): loss \S+ dice \S+$/gm;

interface RankResult {
  readonly rank: number;
  readonly steps: number;
  readonly samples: number;
  readonly digest: string;
}

/**
 * PyTorch's DistributedDataParallel across two hosts: a data server in one network namespace, one rank of the
 * example trainer in each of two others, joined by a bridge. The ranks rendezvous at the first trainer host's
 * address and gloo carries the gradients over that network: each namespace has its own loopback, so nothing
 * can pass over 127.0.0.1.
 */
describe('PyTorch DDP ranks on two network-namespace hosts', () => {
  const tag = `vfpt${process.pid}`;
  let unavailable: string | null = null;
  let dataset: TempDataset | undefined;
  let hosts: NetnsHosts | undefined;
  const processes: NetnsProcess[] = [];

  before(async () => {
    unavailable = (await netnsUnavailable(tag)) ?? (await pythonTorchUnavailable());
    if (unavailable !== null) return;
    dataset = await createPhantomDataset({ series: 8, shape: [24, 48, 48], seed: 22n });
    hosts = await createNetnsHosts(tag, WORLD);
  });

  after(async () => {
    await Promise.all(processes.map((process) => process.kill()));
    await hosts?.cleanup();
    await dataset?.cleanup();
  });

  function track(process: NetnsProcess): NetnsProcess {
    processes.push(process);
    return process;
  }

  it('trains one rank per host over gloo to identical weights, both ranks reporting to the server', {
    timeout: 240_000,
  }, async (t) => {
    if (unavailable !== null || hosts === undefined || dataset === undefined) {
      t.skip(`skipped: ${unavailable}`);
      return;
    }
    const { hub, leaves } = hosts;
    const [master] = leaves;
    assert.ok(master && leaves.length === WORLD);
    const server = track(
      spawnInNetns(hub.ns, [
        VOXELFEED_BIN,
        'serve',
        ...['--host', hub.address, '--port', '50051', '--metrics-port', '9464'],
        ...['--data', dataset.dir],
      ]),
    );
    const [metricsUrl, initialDigest] = await Promise.all([
      waitForMetricsLine(server, 20_000),
      untrainedDigest(),
    ]);
    const serverAddress = `${hub.address}:50051`;

    const started = performance.now();
    const ranks = leaves.map((host, rank) =>
      track(
        spawnProgramInNetns(
          host.ns,
          PYTHON,
          [
            ...['-m', 'voxelfeed.torch.train_ddp', '--address', serverAddress, '--device', 'cpu'],
            ...['--vnet', 'tiny', '--crop', '8,16,16', '--batch-size', String(BATCH)],
            ...['--epochs', String(EPOCHS), '--steps-per-epoch', String(STEPS_PER_EPOCH)],
            ...['--seed', String(SEED), '--job', JOB, '--report-every', '0.2', '--log-every', '1'],
          ],
          {
            PYTHONPATH: PYTHON_ROOT,
            PYTHONUNBUFFERED: '1',
            OMP_NUM_THREADS: '1', // two ranks on a machine of perhaps two cores
            // What torchrun would set for one process on each of two nodes.
            RANK: String(rank),
            WORLD_SIZE: String(WORLD),
            LOCAL_RANK: '0',
            LOCAL_WORLD_SIZE: '1',
            MASTER_ADDR: master.address,
            MASTER_PORT,
            // Without it gloo uses the address the machine's hostname resolves to, often a loopback one from
            // /etc/hosts, which the other host cannot reach: "connect [127.0.0.1]:N: Connection refused".
            GLOO_SOCKET_IFNAME: host.device,
          },
        ),
      ),
    );
    await Promise.all(ranks.map((process, rank) => exitedCleanly(process, `PyTorch rank ${rank}`, 180_000)));
    const trainSeconds = (performance.now() - started) / 1000;

    // (1) Both ranks trained the same steps and ended with bit-identical weights, which differ from the
    // initial ones: every step's gradients were averaged across the two hosts.
    const results = ranks.map((process, rank): RankResult => {
      const match = DONE.exec(process.stdout());
      assert.ok(match, `rank ${rank} printed no "done" line:\n${process.stdout()}\n${process.stderr()}`);
      return {
        rank: Number(match[1]),
        steps: Number(match[2]),
        samples: Number(match[3]),
        digest: match[4]!,
      };
    });
    const steps = EPOCHS * STEPS_PER_EPOCH;
    results.forEach((result, rank) => {
      assert.equal(result.rank, rank, `the process started as RANK=${rank} says rank ${result.rank}`);
      assert.equal(result.steps, steps, `rank ${rank} trained ${result.steps} steps`);
      assert.equal(result.samples, steps * BATCH, `rank ${rank}`);
    });
    assert.equal(results[1]!.digest, results[0]!.digest, 'the two ranks end with different weights');
    assert.notEqual(results[0]!.digest, initialDigest, 'the ranks end with their initial weights');
    const logged = [...ranks[0]!.stdout().matchAll(STEP)].map((line) => `${line[1]}/${line[2]}`);
    assert.deepEqual(logged, ['0/0', '0/1', '1/0', '1/1'], 'rank 0 logs epoch/step of each step');

    // (2) The server streamed to each rank from its own host, as rank r of 2 ...
    const streams = await pollUntil(
      async () => {
        const ended = logLines(server, 'stream ended');
        const byRank = leaves.map((host, rank) =>
          ended.filter(
            (line) =>
              line['rank'] === rank && line['worldSize'] === WORLD && peerHost(line['peer']) === host.address,
          ),
        );
        return byRank.every((lines) => lines.length >= EPOCHS) ? byRank : undefined;
      },
      {
        timeoutMs: 15_000,
        describe: () =>
          `a "stream ended" log line per epoch for rank 0 from ${leaves[0]!.address} and rank 1 from ${leaves[1]!.address}:\n${server.stderr().slice(-4000)}`,
      },
    );

    // ... and holds both ranks' trainer stats, read across the bridge from a trainer host.
    const page = await curlInNetns(leaves[1]!.ns, metricsUrl);
    const series = parsePrometheusText(page).filter(
      (sample) => sample.name.startsWith('voxelfeed_trainer_') && sample.labels.job === JOB,
    );
    for (const result of results) {
      const of = (name: string) =>
        series.find((sample) => sample.name === name && sample.labels.rank === String(result.rank));
      const samples = of('voxelfeed_trainer_samples_total');
      assert.ok(samples, `no voxelfeed_trainer_samples_total for job ${JOB} rank ${result.rank}:\n${page}`);
      // The last report goes out synchronously before the rank prints its totals.
      assert.equal(samples.value, result.samples, `rank ${result.rank}'s samples as the server has them`);
      const busy = of('voxelfeed_trainer_busy_seconds_total');
      assert.ok(busy && busy.value > 0, `rank ${result.rank} reported no busy seconds:\n${page}`);
    }

    t.diagnostic(
      `2 PyTorch ranks on 2 hosts: ${steps} steps each in ${trainSeconds.toFixed(1)} s (torch import included); ` +
        `${streams.map((lines) => lines.length).join(' + ')} streams; weights sha256 ${results[0]!.digest.slice(0, 16)}...`,
    );
  });
});

/** The host of a gRPC peer string such as "10.231.7.2:41234" or "ipv4:10.231.7.2:41234". */
function peerHost(peer: unknown): string | undefined {
  if (typeof peer !== 'string') return undefined;
  return /^(?:ipv4:)?([\d.]+):\d+$/.exec(peer)?.[1];
}

/** The weights digest of the untrained V-Net the ranks start from (tiny preset, the same seed). */
async function untrainedDigest(): Promise<string> {
  const script = [
    'from voxelfeed.torch.vnet import PRESETS, VNet',
    'from voxelfeed.torch.weights_digest import weights_digest',
    `print(weights_digest(VNet(PRESETS["tiny"].with_(seed=${SEED})).state_dict()))`,
  ].join('\n');
  const { stdout } = await exec(PYTHON, ['-c', script], {
    env: { ...process.env, PYTHONPATH: PYTHON_ROOT },
    timeout: 120_000,
  });
  return stdout.trim();
}
