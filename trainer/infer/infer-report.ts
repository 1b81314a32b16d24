import path from 'node:path';
import { formatTable } from '@voxelfeed/common/format-table.js';
import type { InferConfig } from './infer-config.js';
import type { InferSummary } from './run-infer.js';

/**
 * One row per series written (the file's name; the JSON line has its path), then the totals: what
 * `voxelfeed infer` prints on stdout before its JSON line.
 */
export function inferTable(summary: InferSummary): string {
  const rows = summary.series.map((s) => [
    s.uid,
    s.volumeShape.join('x'),
    s.tiles,
    s.seconds.toFixed(1),
    rate(s.tiles, s.seconds),
    mib(s.peakBytes),
    path.basename(s.path),
  ]);
  rows.push([
    `all ${summary.series.length} series`,
    '',
    summary.tiles,
    summary.seconds.toFixed(1),
    rate(summary.tiles, summary.seconds),
    mib(summary.peakMergeBytes),
    '',
  ]);
  return formatTable(['series', 'shape', 'tiles', 'seconds', 'tiles/s', 'merge MiB', 'file'], rows);
}

/** The JSON summary line (snake_case, as voxelfeed train's). */
export function inferJson(config: InferConfig, summary: InferSummary): Record<string, unknown> {
  return {
    predictor: summary.predictor,
    series: summary.series.length,
    tiles: summary.tiles,
    seconds: Number(summary.seconds.toFixed(3)),
    tiles_per_s: Number(rate(summary.tiles, summary.seconds)),
    peak_merge_bytes: summary.peakMergeBytes,
    peak_writer_bytes: Math.max(...summary.series.map((s) => s.writerPeakBytes)),
    tile: summary.tileSize,
    overlap: config.overlap,
    weighting: config.weighting,
    output: config.threshold === null ? 'probability' : `mask >= ${config.threshold}`,
    files: summary.series.map((s) => s.path),
  };
}

function rate(count: number, seconds: number): string {
  return seconds > 0 ? (count / seconds).toFixed(1) : '0';
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}
