import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { formatTable } from '../common/format-table.js';
import { spawnServer } from '../test/support/spawn-server.js';
import { parseInferConfig } from '../trainer/infer/infer-config.js';
import { NO_PROGRESS } from '../trainer/infer/infer-progress.js';
import { type InferSummary, inferWithClient } from '../trainer/infer/run-infer.js';

export interface InferTilesRun {
  readonly table: string;
  readonly json: Record<string, unknown>;
}

/**
 * (j) `voxelfeed infer` on one whole scan with the identity model: a `voxelfeed serve` process streams every
 * tile (StreamTiles), this process predicts (voxel / 255), merges with Gaussian weighting slab by slab and
 * writes `<uid>_pred.nrrd` (gzip), as the command does. The first round includes the server's decode of the
 * scan (a cold cache); the later rounds are warm. Peak merge bytes are the merger's own count, against the
 * whole-volume float32 buffer a non-streaming merge (MONAI's sliding_window_inference) would hold, twice over
 * with its weight buffer.
 */
export async function benchInferTiles(
  dir: string,
  options: {
    readonly shape: readonly [number, number, number];
    readonly tile: readonly [number, number, number];
    readonly overlap: number;
    readonly batchSize: number;
    readonly rounds: number;
  },
): Promise<InferTilesRun> {
  const server = await spawnServer(['--data', dir, '--cache-bytes', '2GiB', '--log-level', 'warn']);
  const uid = (await readdir(dir))
    .find((name) => name.endsWith('_clean.nrrd'))
    ?.slice(0, -'_clean.nrrd'.length);
  if (uid === undefined) throw new Error(`${dir} holds no <uid>_clean.nrrd`);
  const out = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-bench-infer-'));
  try {
    const config = parseInferConfig(
      [
        '--server',
        server.address,
        '--model',
        'identity',
        '--out',
        out,
        '--series',
        uid,
        '--tile',
        options.tile.join(','),
        '--overlap',
        String(options.overlap),
        '--weighting',
        'gaussian',
        '--batch-size',
        String(options.batchSize),
        '--progress',
        'off',
      ],
      {},
    );
    if (config === 'help') throw new Error('unreachable: no --help given');
    const runs: { summary: InferSummary; rssBytes: number }[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const summary = await inferWithClient(config, {
        progress: NO_PROGRESS,
        log: () => {},
        now: () => performance.now() / 1000,
      });
      runs.push({ summary, rssBytes: process.memoryUsage().rss });
      process.stderr.write(
        `(j) round ${round + 1}/${options.rounds}: ${summary.tiles} tiles in ${summary.seconds.toFixed(1)} s\n`,
      );
    }
    const first = runs[0]!.summary;
    const warm = runs.slice(1).map((run) => run.summary);
    const warmSeconds = warm.length === 0 ? first.seconds : median(warm.map((s) => s.seconds));
    const volumeFloat32 = options.shape.reduce((product, side) => product * side, 1) * 4;
    const file = first.series[0]!.path;
    const fileBytes = (await stat(file)).size;
    const rows: Array<[string, string]> = [
      [
        '(j) scan, tile, overlap, weighting',
        `${options.shape.join('x')}, ${options.tile.join('x')}, ${options.overlap}, gaussian`,
      ],
      ['(j) tiles per scan (grid)', String(first.tiles)],
      ['(j) seconds per scan, cold (server decodes the scan)', first.seconds.toFixed(1)],
      [`(j) seconds per scan, warm (median of ${Math.max(1, warm.length)})`, warmSeconds.toFixed(1)],
      ['(j) tiles/s, warm', (first.tiles / warmSeconds).toFixed(0)],
      ['(j) peak merge bytes (merger)', `${mib(first.peakMergeBytes)} MiB`],
      ['(j) whole-volume float32 buffer', `${mib(volumeFloat32)} MiB`],
      [
        '(j) peak NRRD writer bytes (slab + transpose budget)',
        `${mib(first.series[0]!.writerPeakBytes)} MiB`,
      ],
      ['(j) <uid>_pred.nrrd, gzip', `${mib(fileBytes)} MiB`],
    ];
    return {
      table: formatTable(['measure', 'value'], rows),
      json: {
        infer_scan_shape: options.shape,
        infer_tile: options.tile,
        infer_overlap: options.overlap,
        infer_batch_size: options.batchSize,
        infer_tiles_per_scan: first.tiles,
        infer_cold_seconds_per_scan: round3(first.seconds),
        infer_warm_seconds_per_scan: round3(warmSeconds),
        infer_warm_tiles_per_s: Math.round(first.tiles / warmSeconds),
        infer_peak_merge_bytes: first.peakMergeBytes,
        infer_whole_volume_float32_bytes: volumeFloat32,
        infer_peak_writer_bytes: first.series[0]!.writerPeakBytes,
        infer_rss_bytes_after: Math.max(...runs.map((run) => run.rssBytes)),
      },
    };
  } finally {
    await rm(out, { recursive: true, force: true });
    await server.stop();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function round3(value: number): number {
  return Number(value.toFixed(3));
}
