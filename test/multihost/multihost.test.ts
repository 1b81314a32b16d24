import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parsePrometheusText } from '../../bin/demo/prometheus-text.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { VOXELFEED_BIN } from '../support/spawn-server.js';
import { curlInNetns } from './curl-in-netns.js';
import { createNetnsHosts, type NetnsHosts, netnsUnavailable } from './netns-hosts.js';
import { exitedCleanly, type NetnsProcess, spawnInNetns } from './netns-process.js';
import { waitForMetricsLine } from './wait-for-metrics-line.js';

const STREAM_RANK = fileURLToPath(new URL('./stream-rank.ts', import.meta.url));
const WORLD = 4;
const BATCH = 2;
const CROP = '8,16,16';
const JOB = 'multihost';

interface TrainerSummary {
  readonly rank: number;
  readonly steps: number;
  readonly samples: number;
  readonly samples_per_s: number;
  readonly gpu_idle_ratio: number;
  readonly gpu_idle_seconds: number;
  readonly seconds: number;
  readonly weights_sha256: string;
  readonly allreduce_seconds: number;
}

interface RankStream {
  readonly steps: number;
  readonly stepsInEpoch: number;
  readonly itemsPerEpoch: number;
  readonly samples: readonly { index: number; item: number }[];
}

/**
 * Three hosts on one machine: a data server in one network namespace, two trainer hosts of two ranks each in
 * two others, joined by veths on a bridge in a private subnet. The ranks reach the server over that network
 * only, as they would across machines.
 */
describe('voxelfeed across three network-namespace hosts', () => {
  const tag = `vf${process.pid}`;
  let unavailable: string | null = null;
  let dataset: TempDataset | undefined;
  let hosts: NetnsHosts | undefined;
  const processes: NetnsProcess[] = [];

  before(async () => {
    unavailable = await netnsUnavailable(tag);
    if (unavailable !== null) return;
    dataset = await createPhantomDataset({ series: 24, shape: [24, 48, 48], seed: 21n });
    hosts = await createNetnsHosts(tag, 2);
  });

  after(async () => {
    await Promise.all(processes.map((process) => process.kill()));
    await hosts?.cleanup();
    await dataset?.cleanup();
  });

  function start(ns: string, args: readonly string[]): NetnsProcess {
    const process = spawnInNetns(ns, args);
    processes.push(process);
    return process;
  }

  it('trains one model with four ranks on two hosts over one epoch, each sample once, bit-identical weights, every rank reporting its GPU idle time', {
    timeout: 60_000,
  }, async (t) => {
    if (unavailable !== null || hosts === undefined || dataset === undefined) {
      t.skip(`skipped: ${unavailable}`);
      return;
    }
    const { hub, leaves } = hosts;
    const [hostA, hostB] = leaves;
    assert.ok(hostA && hostB);
    const server = start(hub.ns, [
      VOXELFEED_BIN,
      'serve',
      '--host',
      hub.address,
      '--port',
      '50051',
      '--metrics-port',
      '9464',
      '--data',
      dataset.dir,
    ]);
    const metricsUrl = await waitForMetricsLine(server, 20_000);
    const serverAddress = `${hub.address}:50051`;

    const started = performance.now();
    const trainers = [hostA, hostA, hostB, hostB].map((host, rank) =>
      start(host.ns, [
        VOXELFEED_BIN,
        'train',
        ...['--server', serverAddress, '--rank', String(rank), '--world-size', String(WORLD)],
        ...['--model', 'tiny', '--crop', CROP, '--batch', String(BATCH), '--epochs', '1'],
        ...['--backend', 'cpu', '--metrics-port', '0', '--log-every', '1'],
        ...['--job', JOB, '--report-every-ms', '200'],
        // One model: rank 0 on host A hosts the rendezvous; the ranks of host B reach it across the bridge.
        ...['--master-addr', hostA.address, '--master-port', '29500', '--rendezvous-timeout', '30'],
        ...['--peer-timeout', '20'],
        // Spelled out, as stream-rank.ts sends the same request to check coverage.
        ...['--seed', '0', '--negatives', '0', '--validate-every', '0'],
      ]),
    );
    await Promise.all(trainers.map((trainer, rank) => exitedCleanly(trainer, `rank ${rank}`, 40_000)));
    const trainSeconds = (performance.now() - started) / 1000;
    const summaries = trainers.map(
      (trainer) => JSON.parse(trainer.stdout().trim().split('\n').at(-1)!) as TrainerSummary,
    );

    // (1) Coverage: the same four requests, streamed from the trainer hosts, tile the epoch's plan.
    const streams = await Promise.all(
      [hostA, hostA, hostB, hostB].map(async (host, rank) => {
        const probe = start(host.ns, [
          '--import',
          'tsx',
          STREAM_RANK,
          serverAddress,
          String(rank),
          String(WORLD),
          String(BATCH),
          CROP,
        ]);
        await exitedCleanly(probe, `stream of rank ${rank}`, 20_000);
        return JSON.parse(probe.stdout().trim()) as RankStream;
      }),
    );
    const items = streams[0]!.itemsPerEpoch;
    const steps = Math.ceil(items / (WORLD * BATCH));
    assert.ok(items > 0, `the server reports ${items} items per epoch`);
    streams.forEach((stream, rank) => {
      assert.equal(
        stream.steps,
        steps,
        `rank ${rank} streamed ${stream.steps} steps; ${items} items need ${steps}`,
      );
      assert.equal(stream.stepsInEpoch, steps, `rank ${rank}`);
      assert.equal(summaries[rank]!.rank, rank);
      assert.equal(summaries[rank]!.steps, steps, `rank ${rank} trained ${summaries[rank]!.steps} steps`);
      assert.equal(summaries[rank]!.samples, steps * BATCH, `rank ${rank}`);
      const progressLines = trainers[rank]!.stderr().match(/"msg":"epoch 0 step \d+\//g) ?? [];
      assert.equal(progressLines.length, steps, `rank ${rank} logged ${progressLines.length} steps`);
    });
    const byPosition = new Map<number, number>();
    for (const sample of streams.flatMap((stream) => stream.samples)) {
      assert.ok(!byPosition.has(sample.index), `plan position ${sample.index} was served twice`);
      byPosition.set(sample.index, sample.item);
    }
    const padded = steps * WORLD * BATCH;
    assert.deepEqual(
      [...byPosition.keys()].sort((a, b) => a - b),
      Array.from({ length: padded }, (_, p) => p),
    );
    const firstPass = Array.from({ length: items }, (_, p) => byPosition.get(p)!);
    assert.deepEqual(
      [...firstPass].sort((a, b) => a - b),
      Array.from({ length: items }, (_, item) => item),
      'every item of the epoch exactly once',
    );
    for (let p = items; p < padded; p += 1) {
      assert.equal(
        byPosition.get(p),
        byPosition.get(p - items),
        `padding position ${p} wraps to ${p - items}`,
      );
    }

    // (2) The ranks averaged their gradients every step across the hosts: they end with the same weights.
    for (const summary of summaries) {
      assert.equal(summary.weights_sha256, summaries[0]!.weights_sha256, `rank ${summary.rank}'s weights`);
      assert.ok(summary.allreduce_seconds > 0, `rank ${summary.rank} exchanged gradients`);
    }

    // (3) Every rank's reports reached the server across the network.
    const page = await curlInNetns(hub.ns, metricsUrl);
    const idle = parsePrometheusText(page).filter(
      (sample) => sample.name === 'voxelfeed_trainer_gpu_idle_seconds_total' && sample.labels.job === JOB,
    );
    for (const summary of summaries) {
      const reported = idle.find((sample) => sample.labels.rank === String(summary.rank));
      assert.ok(reported, `no voxelfeed_trainer_gpu_idle_seconds_total for rank ${summary.rank}:\n${page}`);
      assert.ok(
        reported.value >= 0 && reported.value <= summary.gpu_idle_seconds + 1e-6,
        `rank ${summary.rank} reported ${reported.value} s idle, its summary says ${summary.gpu_idle_seconds} s`,
      );
    }

    // (4) Per-rank figures, for the log.
    t.diagnostic(`${items} items, ${steps} steps per rank, 4 ranks trained in ${trainSeconds.toFixed(1)} s`);
    for (const summary of summaries) {
      const reported = idle.find((sample) => sample.labels.rank === String(summary.rank))!;
      t.diagnostic(
        `rank ${summary.rank}: ${summary.steps} steps, ${summary.samples_per_s.toFixed(1)} samples/s, gpu idle ${(100 * summary.gpu_idle_ratio).toFixed(1)}% (${summary.gpu_idle_seconds.toFixed(3)} s; server has ${reported.value.toFixed(3)} s)`,
      );
    }
  });
});
