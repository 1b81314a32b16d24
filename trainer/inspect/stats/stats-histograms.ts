import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import { type CropStats, STATS_ROWS } from './crop-stats.js';
import { type HistogramPanel, histogramPng } from './histogram-png.js';

/** Bins of the foreground histogram: crops with no foreground voxel, then equal bins up to the largest count. */
export const FOREGROUND_BINS = 10;

/**
 * Crops per foreground count: bin 0 holds the crops with none, bins 1..9 split (0, max] into equal widths
 * (bin k holds (max(k-1)/9, max k/9]). Returns the counts and the upper edge of each bin.
 */
export function foregroundHistogram(perCrop: readonly number[]): { counts: number[]; max: number } {
  const counts = new Array<number>(FOREGROUND_BINS).fill(0);
  const max = perCrop.reduce((most, n) => Math.max(most, n), 0);
  const wide = FOREGROUND_BINS - 1;
  for (const n of perCrop) {
    counts[n === 0 ? 0 : Math.max(1, Math.ceil((n / max) * wide))]! += 1;
  }
  return { counts, max };
}

/**
 * Writes the PNG histograms of a stats run into `dir` (created if absent) and returns their paths:
 * `centre-position-<mode>.png` per mode with crops drawn for a nodule (one panel per axis: where the nodule's
 * centre sits along the crop, 0..1, in tenths) and `foreground-voxels.png` (one panel per mode with crops:
 * crops per foreground voxel count). A folder that cannot be written is one line naming it and the fix.
 */
export async function writeStatsHistograms(stats: CropStats, dir: string): Promise<string[]> {
  const files: { name: string; panels: HistogramPanel[] }[] = [];
  for (const row of STATS_ROWS) {
    const s = stats[row];
    if (row === 'all' || s.drawnForNodule === 0) continue;
    files.push({
      name: `centre-position-${row}.png`,
      panels: s.centre.map((axis, a) => ({
        title: `${row}: nodule centre along axis ${a} (${s.drawnForNodule} crops${axis.below + axis.above > 0 ? `, ${axis.below + axis.above} outside` : ''})`,
        counts: axis.histogram,
        axisLabels: ['0', '0.5', '1'] as const,
      })),
    });
  }
  const withCrops = STATS_ROWS.filter((row) => stats[row].crops > 0);
  if (withCrops.length > 0) {
    files.push({
      name: 'foreground-voxels.png',
      panels: withCrops.map((row) => {
        const { counts, max } = foregroundHistogram(stats[row].foregroundPerCrop);
        return {
          title: `${row}: crops by foreground voxels (${stats[row].crops} crops)`,
          counts,
          axisLabels: ['none', String(Math.round(max / 2)), String(max)] as const,
        };
      }),
    });
  }
  try {
    await mkdir(dir, { recursive: true });
    const written: string[] = [];
    for (const file of files) {
      const target = path.join(dir, file.name);
      await writeFile(target, await histogramPng(file.panels));
      written.push(target);
    }
    return written;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `--png-dir ${dir}: cannot write the histograms there (${code}); choose a writable folder`,
      { cause: error },
    );
  }
}
