import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Shape3 } from '../../server/sampling/types.js';
import { writePhantomDataset } from '../../server/synth/write-phantom-dataset.js';

export interface TempDataset {
  readonly dir: string;
  readonly series: number;
  readonly nodules: number;
  cleanup(): Promise<void>;
}

/** Writes a small phantom data set (gzip NRRD + .npy, as `voxelfeed synth` does) into a fresh temp folder. */
export async function createPhantomDataset(
  options: { series?: number; shape?: Shape3; seed?: bigint; labels?: number } = {},
): Promise<TempDataset> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-test-'));
  const dir = path.join(root, 'phantom');
  const written = await writePhantomDataset(dir, {
    series: options.series ?? 8,
    shape: options.shape ?? [24, 48, 48],
    seed: options.seed ?? 7n,
    ...(options.labels === undefined ? {} : { labels: options.labels }),
  });
  return {
    dir,
    series: written.series,
    nodules: written.nodules,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
