import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Shape3 } from '../server/sampling/types.js';
import { writePhantomDataset } from '../server/synth/write-phantom-dataset.js';

export const BENCH_ROOT = path.resolve('.voxelfeed', 'bench');

/** A phantom data set for benchmarks, written once under .voxelfeed/bench and reused by later runs. */
export async function benchDataset(
  name: string,
  options: { series: number; shape: Shape3; seed: bigint },
): Promise<string> {
  const dir = path.join(
    BENCH_ROOT,
    `${name}-${options.series}x${options.shape.join('x')}-seed${options.seed}`,
  );
  try {
    await access(path.join(dir, 'voxelfeed-synth.json'));
    return dir;
  } catch {
    const started = performance.now();
    process.stderr.write(
      `writing ${options.series} phantom series of ${options.shape.join('x')} to ${dir} ...\n`,
    );
    await writePhantomDataset(dir, options);
    process.stderr.write(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return dir;
  }
}
