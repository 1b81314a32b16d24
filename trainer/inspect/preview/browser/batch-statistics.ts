import type { SampleMode } from '@voxelfeed/client';
import { foregroundVoxels, type PreviewBatch } from '../preview-batch.js';

/** One crop mode's share of a batch. */
export interface ModeStatistics {
  readonly samples: number;
  /** Samples whose crop holds at least one mask voxel. */
  readonly withForeground: number;
  /** Mask voxels over all voxels of these samples' crops (0 when there are none). */
  readonly foregroundShare: number;
}

export interface BatchStatistics {
  readonly samples: number;
  readonly foregroundVoxels: number;
  readonly foregroundShare: number;
  readonly modes: Readonly<Record<SampleMode, ModeStatistics>>;
}

const MODES: readonly SampleMode[] = ['jitter', 'center', 'negative'];

/** What a batch holds, per crop mode: samples, how many touch the mask, and the mask's share of the voxels. */
export function batchStatistics(batch: Pick<PreviewBatch, 'shape' | 'mask' | 'samples'>): BatchStatistics {
  const [, s0, s1, s2] = batch.shape;
  const voxels = s0 * s1 * s2;
  const counts = batch.samples.map((info, sample) => ({
    mode: info.mode,
    fg: foregroundVoxels(batch, sample),
  }));
  const modeOf = (mode: SampleMode): ModeStatistics => {
    const of = counts.filter((count) => count.mode === mode);
    const fg = of.reduce((sum, count) => sum + count.fg, 0);
    return {
      samples: of.length,
      withForeground: of.filter((count) => count.fg > 0).length,
      foregroundShare: of.length === 0 ? 0 : fg / (of.length * voxels),
    };
  };
  const total = counts.reduce((sum, count) => sum + count.fg, 0);
  return {
    samples: counts.length,
    foregroundVoxels: total,
    foregroundShare: counts.length === 0 ? 0 : total / (counts.length * voxels),
    modes: Object.fromEntries(MODES.map((mode) => [mode, modeOf(mode)])) as Record<
      SampleMode,
      ModeStatistics
    >,
  };
}
