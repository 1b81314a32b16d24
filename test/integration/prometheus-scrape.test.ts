import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import {
  type PrometheusProcess,
  type PromVectorSample,
  startPrometheus,
} from '../support/prometheus-process.js';
import { spawnTrainer, type TrainerProcess } from '../support/spawn-trainer.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const PROMETHEUS_DIR = new URL('../../deploy/prometheus/', import.meta.url);
const JOB = 'scrape-test';
/** Every wait below is bounded by this; Prometheus scrapes and evaluates every second here. */
const WAIT_MS = 30_000;

/**
 * deploy/prometheus/prometheus.yml with its static targets pointed at this test's processes and its
 * intervals cut to 1 s. Each replaced piece must occur exactly once, so an edit of the file that this
 * rewrite no longer understands fails here instead of silently testing something else.
 */
function localConfig(yaml: string, serverTarget: string, trainerTarget: string): string {
  const replacements: [RegExp, string][] = [
    [/^( *)- ["']?voxelfeed-server:9464["']?$/m, `$1- "${serverTarget}"`],
    [
      /^( *)- ["']?voxelfeed-trainer-0:9465["']?\n(\1- ["']?voxelfeed-trainer-\d+:9465["']?\n)*/m,
      `$1- "${trainerTarget}"\n`,
    ],
    [/^( +)scrape_interval: 15s$/m, '$1scrape_interval: 1s'],
    [/^( +)scrape_timeout: 10s$/m, '$1scrape_timeout: 1s'],
    [/^( +)evaluation_interval: 15s$/m, '$1evaluation_interval: 1s'],
  ];
  let config = yaml;
  for (const [pattern, replacement] of replacements) {
    const matches = config.match(new RegExp(pattern.source, `${pattern.flags}g`)) ?? [];
    assert.equal(matches.length, 1, `${pattern} occurs once in prometheus.yml`);
    config = config.replace(pattern, replacement);
  }
  return config;
}

describe('a real Prometheus with deploy/prometheus/prometheus.yml', { timeout: 90_000 }, () => {
  let dataset: TempDataset;
  let server: TestServer;
  let trainer: TrainerProcess;
  let prometheus: PrometheusProcess;
  let serverTarget: string;
  let trainerTarget: string;

  /** Polls an instant query until it returns at least one sample that `accept` likes; returns them. */
  function waitForQuery(
    expr: string,
    accept: (samples: PromVectorSample[]) => boolean = (samples) => samples.length > 0,
  ): Promise<PromVectorSample[]> {
    let last: PromVectorSample[] = [];
    return pollUntil(
      async () => {
        last = await prometheus.query(expr);
        return accept(last) ? last : undefined;
      },
      {
        timeoutMs: WAIT_MS,
        describe: () =>
          `${expr}; last result ${JSON.stringify(last)}\nprometheus log:\n${prometheus.log().slice(-3000)}\n` +
          `trainer log:\n${trainer.stderr().slice(-2000)}`,
      },
    );
  }

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 9n });
    server = await startTestServer({ data: dataset.dir });
    assert.ok(server.running.metricsPort !== null, 'the test server serves metrics');
    serverTarget = `127.0.0.1:${server.running.metricsPort}`;
    // Trains until stopped in after(), so its counters keep rising while Prometheus scrapes.
    trainer = await spawnTrainer([
      ...['--server', server.address, '--job', JOB, '--rank', '0', '--world-size', '1'],
      ...['--model', 'tiny', '--crop', '8,16,16', '--batch', '2', '--epochs', '1000000', '--steps', '0'],
      ...['--metrics-port', '0', '--metrics-host', '127.0.0.1', '--backend', 'cpu'],
      ...['--report-every-ms', '200', '--log-every', '0'],
    ]);
    trainerTarget = new URL(trainer.metricsUrl).host;
    const yaml = await readFile(new URL('prometheus.yml', PROMETHEUS_DIR), 'utf8');
    const rules = await readFile(new URL('rules/voxelfeed.rules.yml', PROMETHEUS_DIR), 'utf8');
    prometheus = await startPrometheus({
      config: localConfig(yaml, serverTarget, trainerTarget),
      // The config names its rules by a path relative to itself.
      files: { 'rules/voxelfeed.rules.yml': rules },
    });
  });

  after(async () => {
    await prometheus?.stop();
    await trainer?.stop();
    await server?.close();
    await dataset?.cleanup();
  });

  it('scrapes the server and the trainer targets, both up', async () => {
    const up = await waitForQuery('up == 1', (samples) => samples.length === 2);
    assert.deepEqual(
      up
        .map((sample) => `${sample.metric['job']} ${sample.metric['instance']} ${sample.metric['component']}`)
        .sort(),
      [
        `voxelfeed-server ${serverTarget} voxelfeed-server`,
        `voxelfeed-trainer ${trainerTarget} voxelfeed-trainer`,
      ],
    );
  });

  it("sees the server's loader batch histogram rising between scrapes", async () => {
    // increase() needs two samples in its window: a result above 0 means two scrapes that differ.
    const samples = await waitForQuery(
      'increase(voxelfeed_loader_stage_seconds_count{stage="batch", job="voxelfeed-server"}[30s]) > 0',
    );
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.metric['instance'], serverTarget);
  });

  it("sees the rank's GPU idle counter rising both on the trainer and through the server, with the rank's own job label", async () => {
    const samples = await waitForQuery(
      `increase(voxelfeed_trainer_gpu_idle_seconds_total{job="${JOB}", rank="0"}[30s]) > 0`,
      (found) => found.length === 2,
    );
    assert.deepEqual(
      samples.map((sample) => sample.metric['instance']).sort(),
      [serverTarget, trainerTarget].sort(),
    );
    const components = samples.map((sample) => sample.metric['component']).sort();
    assert.deepEqual(components, ['voxelfeed-server', 'voxelfeed-trainer']);
  });

  it('loads the rules file and evaluates every rule without errors', async () => {
    interface Rule {
      readonly name: string;
      readonly type: 'recording' | 'alerting';
      readonly health: string;
      readonly lastError?: string;
    }
    let groups: { name: string; file: string; rules: Rule[] }[] = [];
    await pollUntil(
      async () => {
        groups = (await prometheus.api<{ groups: typeof groups }>('/api/v1/rules')).groups;
        const rules = groups.flatMap((group) => group.rules);
        return rules.length > 0 && rules.every((rule) => rule.health !== 'unknown') ? true : undefined;
      },
      { timeoutMs: WAIT_MS, describe: () => `every rule evaluated once: ${JSON.stringify(groups)}` },
    );
    assert.deepEqual(groups.map((group) => group.name).sort(), ['voxelfeed-alerts', 'voxelfeed-recording']);
    const rules = groups.flatMap((group) => group.rules);
    assert.deepEqual(
      rules
        .filter((rule) => rule.type === 'alerting')
        .map((rule) => rule.name)
        .sort(),
      [
        'VoxelfeedCacheHitRatioLow',
        'VoxelfeedLoaderBatchSlow',
        'VoxelfeedStreamErrors',
        'VoxelfeedTrainerGpuIdle',
      ],
    );
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? ''}`);
  });

  it("records the rank's 5-minute GPU idle ratio, once per rank, from the live series", async () => {
    // Until both counters have moved between two scrapes the ratio is 0/0 = NaN: wait for a real number.
    const samples = await waitForQuery(
      `job_rank:voxelfeed_trainer_gpu_idle_ratio:rate5m{job="${JOB}"}`,
      (found) => found.length > 0 && found.every((sample) => Number.isFinite(sample.value)),
    );
    assert.equal(samples.length, 1, 'the trainer and the server series of rank 0 make one ratio');
    assert.equal(samples[0]!.metric['rank'], '0');
    const ratio = samples[0]!.value;
    assert.ok(ratio >= 0 && ratio < 1, `idle ratio ${ratio}`);
  });
});
