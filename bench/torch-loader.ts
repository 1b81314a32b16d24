import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./python/torch_loader_bench.py', import.meta.url));
const REPO_ROOT = path.resolve(path.dirname(SCRIPT), '..', '..');

/** Debian's python3 carries python3-torch and python3-grpcio; a pyenv `python3` on PATH usually does not. */
export const BENCH_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export type TorchLoaderRun =
  | { readonly skipped: string }
  | { readonly table: string; readonly json: Record<string, unknown> };

/** Why the torch loader benchmark cannot run with `python`, or null when torch, grpc and numpy import. */
export function torchLoaderMissing(python: string = BENCH_PYTHON): string | null {
  const probe = spawnSync(python, ['-c', 'import torch, grpc, numpy'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${python} cannot run (${probe.error.message})`;
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').at(-1) ?? '';
    return `${python} cannot import torch, grpc and numpy (${last}); install python3-torch python3-grpcio python3-numpy`;
  }
  return null;
}

/**
 * Crops/s delivered as torch tensors into one Python process: voxelfeed's VoxelFeedDataset against the
 * original PyTorch Dataset, with and without lru_cache (bench/python/torch_loader_bench.py, in alternating
 * rounds). Its progress goes to our stderr; its table and JSON line come back.
 */
export async function benchTorchLoader(options: {
  readonly quick: boolean;
  readonly seconds: number;
  readonly python?: string;
}): Promise<TorchLoaderRun> {
  const python = options.python ?? BENCH_PYTHON;
  const missing = torchLoaderMissing(python);
  if (missing !== null) return { skipped: missing };
  const args = options.quick
    ? ['--rounds', '1', '--seconds', String(options.seconds), '--series', '4', '--warmup-batches', '4']
    : ['--rounds', '3', '--seconds', String(options.seconds)];
  const child = spawn(python, [SCRIPT, ...args, '--node', process.execPath], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`${python} ${path.relative(REPO_ROOT, SCRIPT)} exited with status ${code}`);
  const lines = stdout.trimEnd().split('\n');
  const json = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
  return { table: lines.slice(0, -1).join('\n').trimEnd(), json };
}
