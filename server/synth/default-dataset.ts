import { access, mkdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Shape3 } from '../sampling/types.js';
import { writePhantomDataset } from './write-phantom-dataset.js';

/** The embedded default: small enough to generate in seconds, large enough to exercise the cache. */
export const DEFAULT_PHANTOM = { series: 12, shape: [64, 128, 128] as Shape3, seed: 0n } as const;

/** `$VOXELFEED_CACHE_DIR`, else `$XDG_CACHE_HOME/voxelfeed`, else `~/.cache/voxelfeed`. */
export function voxelfeedCacheDir(env: NodeJS.ProcessEnv): string {
  if (env['VOXELFEED_CACHE_DIR']) return path.resolve(env['VOXELFEED_CACHE_DIR']);
  const base = env['XDG_CACHE_HOME']
    ? path.resolve(env['XDG_CACHE_HOME'])
    : path.join(os.homedir(), '.cache');
  return path.join(base, 'voxelfeed');
}

/**
 * Returns the folder of the default phantom data set, generating it on first use. Generation goes to a
 * temporary sibling folder that is renamed into place when complete, so an interrupted run never leaves a
 * half data set behind under the final name.
 */
export async function ensureDefaultDataset(
  env: NodeJS.ProcessEnv,
  onProgress?: (done: number, total: number) => void,
): Promise<{ dir: string; generated: boolean }> {
  const { series, shape, seed } = DEFAULT_PHANTOM;
  const dir = path.join(voxelfeedCacheDir(env), `phantom-v1-${series}x${shape.join('x')}-seed${seed}`);
  if (await exists(path.join(dir, 'voxelfeed-synth.json'))) return { dir, generated: false };
  await mkdir(path.dirname(dir), { recursive: true });
  const staging = `${dir}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await writePhantomDataset(staging, {
    series,
    shape,
    seed,
    ...(onProgress ? { onSeries: onProgress } : {}),
  });
  // A folder without the marker is a leftover of an older, broken layout: replace it.
  if (!(await exists(path.join(dir, 'voxelfeed-synth.json'))))
    await rm(dir, { recursive: true, force: true });
  try {
    await rename(staging, dir);
  } catch (error) {
    // Another process finished first: use its copy.
    await rm(staging, { recursive: true, force: true });
    if (!(await exists(path.join(dir, 'voxelfeed-synth.json')))) throw error;
    return { dir, generated: false };
  }
  return { dir, generated: true };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
