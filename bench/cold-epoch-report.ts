import { availableParallelism } from 'node:os';
import { formatTable } from '../common/format-table.js';
import { benchColdEpoch } from './cold-epoch.js';

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const each = (values: readonly number[], digits: number) => values.map((v) => v.toFixed(digits)).join(' / ');

/** (p) and (q): the table and the JSON line of `npm run bench -- --only cold-epoch`. */
export async function coldEpochReport(
  dir: string,
  options: { quick: boolean; seconds: number; batchSize: number; crop: readonly [number, number, number] },
): Promise<string> {
  const run = await benchColdEpoch(dir, {
    rounds: options.quick ? 1 : 3,
    warmSeconds: Math.max(1, options.seconds / 4),
    batchSize: options.batchSize,
    crop: options.crop,
    coldPools: [0, 1, 2],
    warmPools: [0, 1, 2],
  });
  const cold = (size: number) => run.coldSeconds.get(size)!;
  const warm = (size: number) => run.warmCropsPerSecond.get(size)!;
  const coldMain = (size: number) => run.coldMainSeconds.get(size)!;
  const warmMain = (size: number) => run.warmMainMicrosPerCrop.get(size)!;
  const coldCpu = (size: number) => run.coldCpuSeconds.get(size)!;
  const busy = [0, 1, 2].map((n) => median(coldMain(n)).toFixed(2)).join(' / ');
  const cpu = [0, 1, 2].map((n) => median(coldCpu(n)).toFixed(2)).join(' / ');
  const speedup = median(cold(1)) / median(cold(2));
  // However the work is spread, 2 workers cannot finish before the process's CPU seconds fill every core.
  const cores = availableParallelism();
  const speedupBound = median(cold(1)) / (median(coldCpu(2)) / cores);
  const rows: Array<[string, string, string]> = [
    [
      `(p) first epoch from an empty cache, ${run.series} series, s, 1 worker (each round)`,
      each(cold(1), 2),
      '',
    ],
    ['(p) the same, 2 workers (each round)', each(cold(2), 2), ''],
    ['(p) speed-up of 2 workers over 1 (medians)', `${speedup.toFixed(2)}x`, '~1.8x'],
    ['(p) the same, 0 workers (main thread; each round)', each(cold(0), 2), ''],
    ['(p) main thread busy, s, 0 / 1 / 2 workers (medians)', busy, ''],
    ['(p) process CPU, s (all threads), 0 / 1 / 2 workers (medians)', cpu, ''],
    [
      `(p) highest speed-up 2 workers could give on ${cores} cores: 1 worker's time / (CPU s with 2 / ${cores})`,
      `${speedupBound.toFixed(2)}x`,
      '',
    ],
  ];
  for (const size of [0, 1, 2]) {
    const name = size === 0 ? '0 workers (main thread)' : `${size} worker${size > 1 ? 's' : ''}`;
    rows.push([`(q) in-process crops/s, warm cache, uint8, ${name}`, each(warm(size).uint8, 0), '']);
    rows.push([`(q) in-process crops/s, warm cache, float32, ${name}`, each(warm(size).float32, 0), '']);
    rows.push([
      `(q) main thread busy, us per crop, uint8 / float32, ${name} (medians)`,
      `${median(warmMain(size).uint8).toFixed(0)} / ${median(warmMain(size).float32).toFixed(0)}`,
      '',
    ]);
  }
  const json = {
    cold_epoch_series: run.series,
    cold_epoch_rounds: run.rounds,
    cold_epoch_s_workers_1: Number(median(cold(1)).toFixed(3)),
    cold_epoch_s_workers_2: Number(median(cold(2)).toFixed(3)),
    cold_epoch_speedup_2_over_1: Number(speedup.toFixed(3)),
    cold_epoch_s_workers_0: Number(median(cold(0)).toFixed(3)),
    cold_epoch_cores: cores,
    cold_epoch_speedup_bound_2_over_1: Number(speedupBound.toFixed(3)),
    ...Object.fromEntries(
      [0, 1, 2].flatMap((n) => [
        [`cold_epoch_main_busy_s_workers_${n}`, Number(median(coldMain(n)).toFixed(3))],
        [`cold_epoch_cpu_s_workers_${n}`, Number(median(coldCpu(n)).toFixed(3))],
      ]),
    ),
    ...Object.fromEntries(
      [0, 1, 2].flatMap((size) => [
        [`warm_crops_per_s_uint8_workers_${size}`, Math.round(median(warm(size).uint8))],
        [`warm_crops_per_s_float32_workers_${size}`, Math.round(median(warm(size).float32))],
        [`warm_main_busy_us_per_crop_uint8_workers_${size}`, Math.round(median(warmMain(size).uint8))],
        [`warm_main_busy_us_per_crop_float32_workers_${size}`, Math.round(median(warmMain(size).float32))],
      ]),
    ),
  };
  return `${formatTable(['measure', 'value', 'target'], rows)}\n\n${JSON.stringify(json)}\n`;
}
