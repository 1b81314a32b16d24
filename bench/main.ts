import os from 'node:os';
import { usageMessage } from '../common/cli/usage-message.js';
import { formatTable } from '../common/format-table.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import type { Shape3 } from '../server/sampling/types.js';
import { benchAllocations } from './allocations.js';
import { allocationsReport } from './allocations-report.js';
import { benchAllReduce } from './allreduce.js';
import { benchAugment } from './augment-crops.js';
import { benchDataset } from './bench-data.js';
import { BENCH_COMMAND, BENCH_HELP, parseBenchOptions } from './bench-options.js';
import { benchCacheWindow } from './cache-window.js';
import { coldEpochReport } from './cold-epoch-report.js';
import { benchGrpc } from './grpc-crops.js';
import { benchInProcess } from './in-process-crops.js';
import { benchInferTiles } from './infer-tiles.js';
import { benchMetricsCost } from './metrics-cost.js';
import { benchPerCropDecode } from './per-crop-decode.js';
import { benchReplicaGroups } from './replica-groups.js';
import { benchSameHost } from './same-host.js';
import { sameHostReport } from './same-host-report.js';
import { benchTimeToFirstBatch } from './time-to-first-batch.js';
import { benchTorchLoader, type TorchLoaderRun } from './torch-loader.js';
import { benchTrainerIdle } from './trainer-idle.js';
import { benchWire, reportWire } from './wire-chain.js';

function pct(ratio: number): string {
  return `${(100 * ratio).toFixed(1)}%`;
}

/** (i)'s table, or the line saying why it was skipped. */
function torchLoaderText(run: TorchLoaderRun): string {
  return 'skipped' in run ? `(i) torch loader benchmark skipped: ${run.skipped}` : `(i) ${run.table}`;
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  if (options === 'help') {
    process.stdout.write(`${BENCH_HELP}\n`);
    return;
  }
  const { quick, seconds } = options;
  const crop: Shape3 = [16, 96, 96];
  const batchSize = 8;
  const series = quick ? 8 : 64;
  if (options.only === 'torch') {
    const run = await benchTorchLoader({ quick, seconds });
    process.stdout.write(`${torchLoaderText(run)}\n`);
    if (!('skipped' in run)) process.stdout.write(`\n${JSON.stringify(run.json)}\n`);
    return;
  }
  if (options.only === 'allreduce') {
    const run = await benchAllReduce({ quick });
    process.stdout.write(`(k) ${run.table}\n\n${JSON.stringify(run.json)}\n`);
    return;
  }
  if (options.only === 'augment') {
    const dir = await benchDataset('luna-like', { series, shape: [128, 192, 192], seed: 1n });
    const run = await benchAugment(dir, { seconds: Math.max(1, seconds / 4), batchSize, crop, rounds: 3 });
    const rows = (['uint8', 'float32'] as const).map((dtype) => {
      const { off, on } = run.rounds[dtype];
      return [
        `(l) in-process crops/s, ${dtype}`,
        off.map((v) => v.toFixed(0)).join(' / '),
        on.map((v) => v.toFixed(0)).join(' / '),
        pct(mean(on) / mean(off)),
      ];
    });
    process.stdout.write(
      `${formatTable(['', 'augmentation off (rounds)', 'usual augmentation (rounds)', 'on / off'], rows)}\n`,
    );
    const json = Object.fromEntries(
      (['uint8', 'float32'] as const).map((dtype) => [
        `augment_${dtype}`,
        {
          off_crops_per_s: run.rounds[dtype].off.map(Math.round),
          on_crops_per_s: run.rounds[dtype].on.map(Math.round),
          on_over_off: Number((mean(run.rounds[dtype].on) / mean(run.rounds[dtype].off)).toFixed(3)),
        },
      ]),
    );
    process.stdout.write(
      `\n${JSON.stringify({ series: run.series, crop, batch_size: batchSize, ...json })}\n`,
    );
    return;
  }
  if (options.only === 'allocations') {
    const dir = await benchDataset('luna-like', { series: quick ? 8 : 16, shape: [128, 192, 192], seed: 1n });
    const run = await benchAllocations(dir, {
      batchSize,
      crop,
      batchesPerRound: quick ? 40 : 200,
      rounds: quick ? 3 : 5,
    });
    const report = allocationsReport(run);
    process.stdout.write(
      `(m) ${report.table}\n\n${JSON.stringify({ crop, batch_size: batchSize, ...report.json })}\n`,
    );
    return;
  }
  if (options.only === 'tiles') {
    const shape: Shape3 = quick ? [60, 128, 128] : [300, 512, 512];
    const dir = await benchDataset('scan', { series: 1, shape, seed: 1n });
    const run = await benchInferTiles(dir, {
      shape,
      tile: crop,
      overlap: 0.5,
      batchSize,
      rounds: quick ? 2 : 3,
    });
    process.stdout.write(`${run.table}\n\n${JSON.stringify(run.json)}\n`);
    return;
  }
  if (options.only === 'same-host') {
    const dir = await benchDataset('luna-like', { series, shape: [128, 192, 192], seed: 1n });
    const run = await benchSameHost(dir, {
      seconds: Math.max(1, seconds / 2),
      rounds: 3,
      batchSize,
      crop,
      series,
    });
    process.stdout.write(sameHostReport(run));
    return;
  }
  if (options.only === 'wire') {
    const dir = await benchDataset('luna-like', { series, shape: [128, 192, 192], seed: 1n });
    const run = await benchWire({
      dir,
      series,
      seconds: Math.max(1, seconds / 2),
      rounds: quick ? 2 : 3,
      batchSize,
      crop,
    });
    const { table, json } = reportWire(run);
    // Every process of the run inherits it, and the ratios depend on it (docs/performance.md).
    const glibcTunables = process.env.GLIBC_TUNABLES ?? null;
    process.stdout.write(
      `(o) GLIBC_TUNABLES: ${glibcTunables ?? '(not set)'}\n${table}\n\n${JSON.stringify({ series, crop, batch_size: batchSize, glibc_tunables: glibcTunables, ...json })}\n`,
    );
    return;
  }
  if (options.only === 'cold-epoch') {
    const dir = await benchDataset('luna-like', { series, shape: [128, 192, 192], seed: 1n });
    process.stdout.write(await coldEpochReport(dir, { quick, seconds, batchSize, crop }));
    return;
  }
  if (options.only === 'grpc') {
    const dir = await benchDataset('luna-like', { series, shape: [128, 192, 192], seed: 1n });
    const alone = await benchGrpc(dir, {
      seconds,
      batchSize,
      crop,
      series,
      flowControlWindow: 16 * 1024 * 1024,
    });
    process.stdout.write(
      `${formatTable(
        ['measure', 'value', 'target'],
        [
          [
            '(b) loopback gRPC crops/s, one client, 16 MiB window',
            alone.cropsPerSecond.toFixed(0),
            '>= 2000',
          ],
          ['    loopback gRPC MB/s (image + mask)', alone.megabytesPerSecond.toFixed(0), ''],
        ],
      )}\n\n${JSON.stringify({ grpc_crops_per_s: Math.round(alone.cropsPerSecond), grpc_mb_per_s: Math.round(alone.megabytesPerSecond) })}\n`,
    );
    return;
  }
  const manyDir = await benchDataset('many', { series: quick ? 100 : 888, shape: [16, 48, 48], seed: 2n });
  // (g) The cache-aware epoch order against the full shuffle, with a cache holding 10% of the data set.
  const manyCatalog = await buildCatalog({ source: manyDir });
  const windowRun = await benchCacheWindow(manyCatalog, {
    cacheFraction: 0.1,
    negativesPerSeries: 10,
    batchSize,
    crop: [16, 32, 32],
  });
  // (h) Two replicas with rank affinity: the plan interleaved over all ranks, or cut into one part per replica.
  const replicaRun = await benchReplicaGroups(manyCatalog, {
    replicas: 2,
    worldSize: 4,
    cacheFraction: 0.1,
    negativesPerSeries: 10,
    batchSize,
    crop: [16, 32, 32],
  });
  const windowRows: Array<[string, string, string]> = [
    ['(g) cache hit ratio, full shuffle, cache = 10% of the data set', pct(windowRun.full.hitRatio), ''],
    [
      `(g) cache hit ratio, shuffle_window ${windowRun.windowed.shuffleWindow} series`,
      pct(windowRun.windowed.hitRatio),
      '>= 90%',
    ],
    ['(g) volume loads per series and epoch, full shuffle', windowRun.full.loadsPerSeries.toFixed(2), ''],
    ['(g) volume loads per series and epoch, windowed', windowRun.windowed.loadsPerSeries.toFixed(2), ''],
    [
      '(g) epoch seconds, full shuffle / windowed',
      `${windowRun.full.seconds.toFixed(1)} / ${windowRun.windowed.seconds.toFixed(1)}`,
      '',
    ],
    [
      `(h) 2 replicas, 4 ranks, window ${replicaRun.window}: hit ratio, rank_groups 1 / 2`,
      `${pct(replicaRun.interleaved.hitRatio)} / ${pct(replicaRun.grouped.hitRatio)}`,
      '',
    ],
    [
      '(h) volume loads per series and epoch, all replicas, rank_groups 1 / 2',
      `${replicaRun.interleaved.loadsPerSeries.toFixed(2)} / ${replicaRun.grouped.loadsPerSeries.toFixed(2)}`,
      '',
    ],
  ];
  const windowJson = {
    cache_window_series: windowRun.series,
    cache_window_cache_series: windowRun.cacheSeries,
    cache_window_full_hit_ratio: Number(windowRun.full.hitRatio.toFixed(4)),
    cache_window_windowed_hit_ratio: Number(windowRun.windowed.hitRatio.toFixed(4)),
    cache_window_full_loads: windowRun.full.loads,
    cache_window_windowed_loads: windowRun.windowed.loads,
    cache_window_shuffle_window: windowRun.windowed.shuffleWindow,
    replica_groups_1_hit_ratio: Number(replicaRun.interleaved.hitRatio.toFixed(4)),
    replica_groups_2_hit_ratio: Number(replicaRun.grouped.hitRatio.toFixed(4)),
    replica_groups_1_loads_per_series: Number(replicaRun.interleaved.loadsPerSeries.toFixed(3)),
    replica_groups_2_loads_per_series: Number(replicaRun.grouped.loadsPerSeries.toFixed(3)),
  };
  if (options.only === 'cache-window') {
    process.stdout.write(
      `${formatTable(['measure', 'value', 'target'], windowRows)}\n\n${JSON.stringify(windowJson)}\n`,
    );
    return;
  }
  const bigDir = await benchDataset('luna-like', { series, shape: [128, 192, 192], seed: 1n });

  const inProcess = await benchInProcess(bigDir, { seconds, batchSize, crop });
  // Clients should raise the HTTP/2 flow-control window (docs/client-guide.md); the default 64 KiB is
  // measured for contrast.
  const grpcDefaultWindow = await benchGrpc(bigDir, {
    seconds: Math.max(2, seconds / 2),
    batchSize,
    crop,
    series,
  });
  const grpc = await benchGrpc(bigDir, {
    seconds,
    batchSize,
    crop,
    series,
    flowControlWindow: 16 * 1024 * 1024,
  });
  const startup = await benchTimeToFirstBatch(manyDir, [16, 32, 32]);
  const baseline = await benchPerCropDecode(bigDir, { seconds: Math.min(seconds, 5), crop });
  // (e) A trainer whose device takes a fixed 20 ms per batch of 8 crops 16x96x96, so idle time is the data path.
  const trainer = await benchTrainerIdle(bigDir, {
    steps: quick ? 60 : Math.max(200, seconds * 40),
    warmupSteps: 20,
    stepMs: 20,
    batchSize,
    crop,
    series,
  });

  // (f) Metrics on the hot path: the same gRPC measurement with and without metrics, alternating.
  const metricsCost = await benchMetricsCost(bigDir, {
    rounds: quick ? 1 : 2,
    seconds: Math.max(2, seconds / 2),
    batchSize,
    crop,
    series,
  });
  // (i) Python and PyTorch: its own data set and server, after the others so it does not share the cores.
  const torchLoader = await benchTorchLoader({ quick, seconds });

  const machine = `${os.cpus().length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(0)} GiB, node ${process.version}`;
  // Inherited by every process the benchmarks start; the network figures depend on it (docs/performance.md).
  const glibcTunables = process.env.GLIBC_TUNABLES ?? null;
  process.stdout.write(
    `voxelfeed benchmarks on ${machine}; GLIBC_TUNABLES: ${glibcTunables ?? '(not set)'}\n\n`,
  );
  process.stdout.write(
    `${formatTable(
      ['measure', 'value', 'target'],
      [
        ['(a) in-process crops/s, uint8, warm cache', inProcess.cropsPerSecond.toFixed(0), '>= 8000'],
        ['    in-process crops/s, float32', inProcess.cropsPerSecondFloat32.toFixed(0), ''],
        ['(b) loopback gRPC crops/s, one client, 16 MiB window', grpc.cropsPerSecond.toFixed(0), '>= 2000'],
        ['    loopback gRPC MB/s (image + mask)', grpc.megabytesPerSecond.toFixed(0), ''],
        ['    loopback gRPC crops/s, default 64 KiB window', grpcDefaultWindow.cropsPerSecond.toFixed(0), ''],
        ['(c) serve start to listening, s', startup.listenSeconds.toFixed(2), ''],
        ['(c) serve start to first batch, s', startup.firstBatchSeconds.toFixed(2), '< 2'],
        ['(d) loads per series, first epoch', inProcess.loadsPerSeries.toFixed(2), '1'],
        ['    first epoch from a cold cache, s', inProcess.warmLoadSeconds.toFixed(2), ''],
        [
          '(e) trainer GPU idle share, simulated 20 ms step, steady state',
          `${(100 * trainer.steadyIdleRatio).toFixed(2)}%`,
          '< 2%',
        ],
        ['    trainer samples/s (8 per 20 ms step: at most 400)', trainer.samplesPerSecond.toFixed(0), ''],
        ['    trainer data wait, s, steady state', trainer.steadyDataWaitSeconds.toFixed(3), ''],
        [
          '(f) gRPC crops/s, metrics off (each round)',
          metricsCost.offCropsPerSecond.map((v) => v.toFixed(0)).join(' / '),
          '',
        ],
        [
          '(f) gRPC crops/s, metrics on (each round)',
          metricsCost.onCropsPerSecond.map((v) => v.toFixed(0)).join(' / '),
          '',
        ],
        [
          '(f) throughput cost of metrics over gRPC (noisy)',
          `${(100 * metricsCost.cost).toFixed(1)}%`,
          '< 3%',
        ],
        [
          "(f') in-process crops/s, metrics off (rounds)",
          inProcess.metricsOffCropsPerSecond.map((v) => v.toFixed(0)).join(' / '),
          '',
        ],
        [
          "(f') in-process crops/s, metrics on (rounds)",
          inProcess.metricsOnCropsPerSecond.map((v) => v.toFixed(0)).join(' / '),
          '',
        ],
        [
          "(f') in-process cost of metrics",
          `${(100 * (1 - mean(inProcess.metricsOnCropsPerSecond) / mean(inProcess.metricsOffCropsPerSecond))).toFixed(1)}%`,
          '< 3%',
        ],
        ...windowRows,
        ['baseline: decode per crop, crops/s', baseline.cropsPerSecond.toFixed(1), ''],
        [
          'speed-up of (a) over the baseline',
          (inProcess.cropsPerSecond / baseline.cropsPerSecond).toFixed(0),
          '',
        ],
      ],
    )}\n\n`,
  );
  process.stdout.write(`${torchLoaderText(torchLoader)}\n\n`);
  process.stdout.write(
    `${JSON.stringify({
      machine,
      glibc_tunables: glibcTunables,
      quick,
      series,
      crop,
      batch_size: batchSize,
      in_process_crops_per_s: Math.round(inProcess.cropsPerSecond),
      in_process_float32_crops_per_s: Math.round(inProcess.cropsPerSecondFloat32),
      grpc_crops_per_s: Math.round(grpc.cropsPerSecond),
      grpc_mb_per_s: Math.round(grpc.megabytesPerSecond),
      grpc_default_window_crops_per_s: Math.round(grpcDefaultWindow.cropsPerSecond),
      serve_to_listen_s: Number(startup.listenSeconds.toFixed(3)),
      serve_to_first_batch_s: Number(startup.firstBatchSeconds.toFixed(3)),
      catalog_series_for_startup: quick ? 100 : 888,
      loads_per_series_first_epoch: inProcess.loadsPerSeries,
      baseline_decode_per_crop_crops_per_s: Number(baseline.cropsPerSecond.toFixed(1)),
      trainer_gpu_idle_ratio_steady: Number(trainer.steadyIdleRatio.toFixed(5)),
      trainer_gpu_idle_ratio_all: Number(trainer.idleRatio.toFixed(5)),
      trainer_samples_per_s: Number(trainer.samplesPerSecond.toFixed(1)),
      metrics_off_crops_per_s: metricsCost.offCropsPerSecond.map((v) => Math.round(v)),
      metrics_on_crops_per_s: metricsCost.onCropsPerSecond.map((v) => Math.round(v)),
      metrics_cost_ratio: Number(metricsCost.cost.toFixed(4)),
      ...windowJson,
      in_process_metrics_cost_ratio: Number(
        (1 - mean(inProcess.metricsOnCropsPerSecond) / mean(inProcess.metricsOffCropsPerSecond)).toFixed(4),
      ),
      torch_loader: 'skipped' in torchLoader ? { skipped: torchLoader.skipped } : torchLoader.json,
    })}\n`,
  );
}

try {
  await main();
} catch (error) {
  const message = usageMessage(error, BENCH_COMMAND.name);
  if (message === null) throw error;
  process.stderr.write(`bench: ${message}\n`);
  process.exitCode = 2;
}
