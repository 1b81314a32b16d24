import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import { integer, text } from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';
import { formatTable } from '@voxelfeed/common/format-table.js';
import { freeLoopbackPort } from '@voxelfeed/common/free-loopback-port.js';
import { ensureDefaultDataset } from '@voxelfeed/server/synth/default-dataset.js';
import { TRAIN_COMMAND } from '@voxelfeed/trainer/config/train-config.js';
import { histogramQuantile, parsePrometheusText, sumOf } from './prometheus-text.js';
import { type RunningCommand, spawnVoxelfeed } from './spawn-command.js';

const TRAIN_OPTIONS = TRAIN_COMMAND.options;

/** `voxelfeed demo`: its options, defaults and help lines; the trainer's options are checked as train checks them. */
export const DEMO_COMMAND = command({
  name: 'voxelfeed demo',
  usage:
    'Usage: voxelfeed demo [--steps N] [--ranks R] [--batch B] [--crop Z,Y,X] [--model tiny|vnet] [--lr RATE] [--data DIR]',
  summary: `The whole system in one command: makes (or reuses) the phantom data set, starts a data server, trains R ranks
of a V-Net against it for N steps each (separate processes, as on separate hosts), and prints a summary: samples/s
per rank, loss at the start and the end, GPU idle share, the server's loader latency and cache hit ratio.`,
  options: {
    steps: option({
      kind: integer({ min: 1, max: 1_000_000, placeholder: 'N', example: '160' }),
      default: 160,
      help: 'steps per rank, 1..1000000',
    }),
    ranks: option({
      kind: integer({ min: 1, max: 64, placeholder: 'R', example: '2' }),
      default: 2,
      help: 'trainer ranks, 1..64',
    }),
    batch: option({ kind: TRAIN_OPTIONS.batch.kind, default: 2, help: 'samples per step and rank' }),
    crop: option({ kind: TRAIN_OPTIONS.crop.kind, default: [16, 16, 16], help: 'crop size' }),
    model: option({
      kind: TRAIN_OPTIONS.model.kind,
      default: 'tiny',
      help: "tiny (CPU-friendly) or vnet (the paper's network: use a GPU)",
    }),
    lr: option({ kind: TRAIN_OPTIONS.lr.kind, default: 0.01, help: 'Adam learning rate' }),
    data: option({
      kind: text({ placeholder: 'DIR', example: './data/luna16' }),
      default: null,
      help: 'serve this data set instead of the phantom',
    }),
  },
  notes: 'The last line of output is one JSON object with the figures of the table.',
});

export const DEMO_HELP = formatHelp(DEMO_COMMAND);

interface RankResult {
  readonly rank: number;
  readonly losses: number[];
  readonly summary: Record<string, number | string | null>;
}

/** The demo's composition root: a server process and R trainer processes on 127.0.0.1, then a summary. */
export async function runDemo(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const line = parseCommandLine(DEMO_COMMAND, argv, env);
  if (line === 'help') {
    process.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  throwIfProblems(DEMO_COMMAND, line.problems);
  const { values } = line;
  const { steps, ranks } = values;
  const batch = String(values.batch);
  const crop = values.crop.join(',');
  const model = values.model;
  const lr = String(values.lr);
  const started = performance.now();
  const progress = new Progress(ranks, steps);

  let data = values.data;
  if (data === null) {
    const dataset = await ensureDefaultDataset(env, (done, total) =>
      progress.note(`writing the phantom data set: ${done}/${total} series`),
    );
    data = dataset.dir;
  }
  const server = spawnVoxelfeed([
    'serve',
    '--data',
    data,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--metrics-port',
    '0',
    '--log-level',
    'warn',
  ]);
  const trainers: RunningCommand[] = [];
  try {
    const port = (await server.waitForStdout(/listening on [^\n]*:(\d+)/, 60_000))[1]!;
    const metricsUrl = (await server.waitForStdout(/metrics on (http:\/\/\S+)/, 10_000))[1]!;
    progress.note(`server on 127.0.0.1:${port}; starting ${ranks} trainer ranks`);
    const losses: number[][] = Array.from({ length: ranks }, () => []);
    // The ranks train one model: rank 0 hosts their rendezvous on this machine.
    const masterPort = String(await freeLoopbackPort());
    for (let rank = 0; rank < ranks; rank++) {
      trainers.push(
        spawnVoxelfeed(
          [
            'train',
            '--server',
            `127.0.0.1:${port}`,
            '--rank',
            String(rank),
            '--world-size',
            String(ranks),
            '--master-addr',
            '127.0.0.1',
            '--master-port',
            masterPort,
            '--job',
            'demo',
            '--model',
            model,
            '--crop',
            crop,
            '--batch',
            batch,
            '--lr',
            lr,
            '--steps',
            String(steps),
            '--epochs',
            '1000000',
            '--metrics-port',
            '0',
            '--log-every',
            '1',
            '--report-every-ms',
            '500',
            '--backend',
            'auto',
          ],
          {
            onStderrLine: (line) => {
              const event = parseLogLine(line);
              if (event !== null && typeof event['loss'] === 'number') {
                losses[rank]!.push(event['loss']);
                progress.step(rank, losses[rank]!.length);
              }
            },
          },
        ),
      );
    }
    const codes = await Promise.all(trainers.map((trainer) => trainer.exited));
    progress.done();
    codes.forEach((code, rank) => {
      if (code !== 0)
        throw new Error(
          `trainer rank ${rank} exited with ${code}:\n${trainers[rank]!.stderr().slice(-3000)}`,
        );
    });
    const results: RankResult[] = trainers.map((trainer, rank) => ({
      rank,
      losses: losses[rank]!,
      summary: JSON.parse(trainer.stdout().trim().split('\n').at(-1) ?? '{}'),
    }));
    const metrics = parsePrometheusText(await (await fetch(metricsUrl)).text());
    printSummary(results, metrics, (performance.now() - started) / 1000);
    return 0;
  } finally {
    for (const trainer of trainers) if (trainer.child.exitCode === null) trainer.child.kill('SIGTERM');
    if (server.child.exitCode === null) server.child.kill('SIGTERM');
    await server.exited;
  }
}

function printSummary(
  results: readonly RankResult[],
  metrics: ReturnType<typeof parsePrometheusText>,
  seconds: number,
): void {
  const mean = (values: readonly number[]) =>
    values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  // A single step's loss is noisy; compare the mean of the first and the last five steps.
  const window = (losses: readonly number[], from: 'start' | 'end') =>
    mean(from === 'start' ? losses.slice(0, 5) : losses.slice(-5));
  const number = (value: unknown) => (typeof value === 'number' ? value : Number.NaN);
  const rows = results.map((result) => [
    `rank ${result.rank}`,
    String(result.summary['backend']),
    number(result.summary['samples_per_s']).toFixed(1),
    window(result.losses, 'start').toFixed(4),
    window(result.losses, 'end').toFixed(4),
    `${(100 * number(result.summary['gpu_idle_ratio'])).toFixed(1)}%`,
  ]);
  const p50 = histogramQuantile(metrics, 'voxelfeed_loader_stage_seconds', 0.5, { stage: 'batch' });
  const p99 = histogramQuantile(metrics, 'voxelfeed_loader_stage_seconds', 0.99, { stage: 'batch' });
  const hits = sumOf(metrics, 'voxelfeed_cache_requests_total', { outcome: 'hit' });
  const requests = sumOf(metrics, 'voxelfeed_cache_requests_total');
  const summary = {
    ranks: results.length,
    steps_per_rank: Math.min(...results.map((result) => result.losses.length)),
    samples_per_s: results.reduce((sum, result) => sum + number(result.summary['samples_per_s']), 0),
    gpu_idle_ratio: mean(results.map((result) => number(result.summary['gpu_idle_ratio']))),
    loss_first: mean(results.map((result) => window(result.losses, 'start'))),
    loss_last: mean(results.map((result) => window(result.losses, 'end'))),
    loader_p50_ms: p50 === null ? null : p50 * 1000,
    loader_p99_ms: p99 === null ? null : p99 * 1000,
    cache_hit_ratio: requests === 0 ? null : hits / requests,
    backend: String(results[0]?.summary['backend'] ?? ''),
    seconds,
  };
  process.stdout.write(
    `\n${formatTable(['rank', 'backend', 'samples/s', 'loss (first 5)', 'loss (last 5)', 'GPU idle'], rows)}\n\n` +
      `${formatTable(
        ['server', 'value'],
        [
          [
            'loader batch latency p50',
            summary.loader_p50_ms === null ? 'n/a' : `${summary.loader_p50_ms.toFixed(2)} ms`,
          ],
          [
            'loader batch latency p99',
            summary.loader_p99_ms === null ? 'n/a' : `${summary.loader_p99_ms.toFixed(2)} ms`,
          ],
          [
            'cache hit ratio',
            summary.cache_hit_ratio === null ? 'n/a' : `${(100 * summary.cache_hit_ratio).toFixed(1)}%`,
          ],
          ['samples/s, all ranks', summary.samples_per_s.toFixed(1)],
          ['loss went', summary.loss_last < summary.loss_first ? 'down' : 'NOT down'],
          ['wall time', `${seconds.toFixed(1)} s`],
        ],
      )}\n\n${JSON.stringify(summary)}\n`,
  );
}

function parseLogLine(line: string): Record<string, unknown> | null {
  try {
    const parsed = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? parsed : null;
  } catch {
    return null;
  }
}

/** One progress line on stderr: redrawn in place on a terminal, every 10% otherwise. */
class Progress {
  private readonly done_ = new Map<number, number>();
  private lastPrinted = -1;
  constructor(
    private readonly ranks: number,
    private readonly steps: number,
  ) {}

  note(message: string): void {
    process.stderr.write(`${message}\n`);
  }

  step(rank: number, done: number): void {
    this.done_.set(rank, done);
    const total = [...this.done_.values()].reduce((a, b) => a + b, 0);
    const fraction = total / (this.ranks * this.steps);
    const width = 30;
    const bar = `[${'#'.repeat(Math.round(fraction * width)).padEnd(width, '.')}] ${total}/${this.ranks * this.steps} steps`;
    if (process.stderr.isTTY) process.stderr.write(`\r${bar}`);
    else if (Math.floor(fraction * 10) > this.lastPrinted) {
      this.lastPrinted = Math.floor(fraction * 10);
      process.stderr.write(`${bar}\n`);
    }
  }

  done(): void {
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}
