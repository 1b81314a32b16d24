import type { TrainerStats } from '@voxelfeed/proto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { WatchedState } from './telemetry.js';

/**
 * Per trainer rank, from ReportTrainerStats, read at scrape time: the counters are the rank's own running
 * totals. No ranks until `trainers()` returns a store.
 */
export function registerTrainerSeries(
  registry: Registry,
  trainers: () => WatchedState['trainers'] | null,
): void {
  const labelNames = ['job', 'rank'] as const;
  const reports = () => trainers()?.current() ?? [];
  const counters: ReadonlyArray<readonly [string, string, (stats: TrainerStats) => number]> = [
    [
      'voxelfeed_trainer_gpu_idle_seconds_total',
      "Seconds the rank's device waited for input (reported by the rank).",
      (stats) => stats.gpuIdleSeconds,
    ],
    [
      'voxelfeed_trainer_busy_seconds_total',
      "Seconds the rank's device spent on training steps (reported).",
      (stats) => stats.stepSeconds,
    ],
    [
      'voxelfeed_trainer_data_wait_seconds_total',
      "Seconds the rank's loop waited for batches (reported).",
      (stats) => stats.dataWaitSeconds,
    ],
    [
      'voxelfeed_trainer_samples_total',
      'Samples the rank trained on (reported).',
      (stats) => Number(stats.samples),
    ],
  ];
  for (const [name, help, value] of counters) {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const report of reports()) this.inc(labelsOf(report.stats), value(report.stats));
      },
    });
  }
  new Gauge({
    name: 'voxelfeed_trainer_gpu_idle_ratio',
    help: "Idle share of the rank's device time since it started: idle / (idle + busy) (reported).",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const { stats } of reports()) {
        const total = stats.gpuIdleSeconds + stats.stepSeconds;
        this.set(labelsOf(stats), total === 0 ? 0 : stats.gpuIdleSeconds / total);
      }
    },
  });
}

function labelsOf(stats: TrainerStats): { job: string; rank: string } {
  return { job: stats.job, rank: String(stats.rank) };
}
