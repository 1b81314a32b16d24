import type { SampleInfoView } from '@voxelfeed/client';
import { meanAndStd, quantile, unitHistogram } from './distribution.js';

/** Bins of the centre-position histograms, over the crop's extent 0..1. */
export const POSITION_BINS = 10;

/** The rows of the report: each crop mode, in the order of the wire enum, then every crop together. */
export const STATS_ROWS = ['jitter', 'center', 'negative', 'all'] as const;
export type StatsRow = (typeof STATS_ROWS)[number];

/** Where the drawn nodule's centre sits in the crops along one axis. */
export interface AxisPosition {
  readonly mean: number | null;
  readonly std: number | null;
  /** Crops per tenth of the crop's extent, 0..0.1 first. */
  readonly histogram: readonly number[];
  /** Crops whose nodule centre lies before the crop's first voxel (below) or past its last (above). */
  readonly below: number;
  readonly above: number;
}

/** The figures of one row (a crop mode, or all crops). */
export interface ModeStats {
  readonly crops: number;
  /** Crops drawn for a nodule (SampleInfo.nodule >= 0); negative items have none. */
  readonly drawnForNodule: number;
  /** Crops with at least one non-zero mask voxel. */
  readonly withForeground: number;
  /** Crops drawn for a nodule whose nodule lies whole inside the crop (`holdsWholeNodule`). */
  readonly wholeNodule: number;
  /** Foreground voxels per crop, every crop of the row counted (zeros too). */
  readonly foregroundVoxels: {
    readonly mean: number | null;
    readonly median: number | null;
    readonly p90: number | null;
  };
  /** Per axis 0, 1, 2, over the crops drawn for a nodule. */
  readonly centre: readonly [AxisPosition, AxisPosition, AxisPosition];
  /** Foreground voxels of every crop of the row, for the histograms. */
  readonly foregroundPerCrop: readonly number[];
}

export type CropStats = Readonly<Record<StatsRow, ModeStats>>;

/**
 * The centre's place along the crop's extent on axis `a`: (c - origin + 0.5) / size, where voxel i of the crop
 * spans [i, i + 1) of that extent and a centre at voxel coordinate c lies in the middle of voxel round(c). So 0
 * is the near face of the crop's first voxel, 1 the far face of its last, 0.5 the middle; the centre mode's
 * crop puts it at (floor(s/2) + 0.5 + c - round(c)) / s, 0.5 + 0.5/s for an even s and an integer centre.
 */
export function centrePosition(sample: SampleInfoView, axis: 0 | 1 | 2, size: number): number {
  return (sample.noduleCenter[axis]! - sample.origin[axis] + 0.5) / size;
}

/**
 * Whether the drawn nodule lies whole inside the crop: on every axis, the voxels the nodule spans,
 * round(c - d/2) to round(c + d/2) with round(x) = floor(x + 1/2) (the span the server's jitter mode keeps
 * inside the crop), lie within origin .. origin + size - 1. The test is on that box of the nodule's sphere,
 * not on the mask. False for a crop drawn for no nodule.
 */
export function holdsWholeNodule(sample: SampleInfoView, size: readonly [number, number, number]): boolean {
  if (sample.nodule < 0 || sample.noduleCenter.length !== 3) return false;
  const half = sample.noduleDiameter / 2;
  return ([0, 1, 2] as const).every((a) => {
    const c = sample.noduleCenter[a]!;
    const lo = Math.floor(c - half + 0.5);
    const hi = Math.floor(c + half + 0.5);
    return lo >= sample.origin[a] && hi <= sample.origin[a] + size[a] - 1;
  });
}

/** Every figure of the report, per crop mode and for all crops, from the samples' records alone. */
export function cropStats(
  samples: readonly SampleInfoView[],
  cropSize: readonly [number, number, number],
): CropStats {
  const byRow = (row: StatsRow) => (row === 'all' ? samples : samples.filter((s) => s.mode === row));
  const entries = STATS_ROWS.map((row) => [row, modeStats(byRow(row), cropSize)] as const);
  return Object.fromEntries(entries) as Record<StatsRow, ModeStats>;
}

function modeStats(
  samples: readonly SampleInfoView[],
  cropSize: readonly [number, number, number],
): ModeStats {
  const foreground = samples.map((s) => s.foregroundVoxels);
  const drawn = samples.filter((s) => s.nodule >= 0 && s.noduleCenter.length === 3);
  const axis = (a: 0 | 1 | 2): AxisPosition => {
    const positions = drawn.map((s) => centrePosition(s, a, cropSize[a]));
    const spread = meanAndStd(positions);
    const { counts, below, above } = unitHistogram(positions, POSITION_BINS);
    return { mean: spread?.mean ?? null, std: spread?.std ?? null, histogram: counts, below, above };
  };
  return {
    crops: samples.length,
    drawnForNodule: drawn.length,
    withForeground: foreground.filter((n) => n > 0).length,
    wholeNodule: drawn.filter((s) => holdsWholeNodule(s, cropSize)).length,
    foregroundVoxels: {
      mean: meanAndStd(foreground)?.mean ?? null,
      median: quantile(foreground, 0.5),
      p90: quantile(foreground, 0.9),
    },
    centre: [axis(0), axis(1), axis(2)],
    foregroundPerCrop: foreground,
  };
}
