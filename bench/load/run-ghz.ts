import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadCall, LoadOptions } from './load-options.js';
import { ghzCallData } from './load-requests.js';

export const GHZ_CONFIG_DIR = fileURLToPath(new URL('../../deploy/ghz/', import.meta.url));

/** The deploy/ghz config that runs the same calls as the built-in runner. */
export const GHZ_CONFIGS: Readonly<Record<LoadCall, string>> = {
  'get-sample': 'get-sample.json',
  'stream-batches': 'stream-batches.json',
};

/** The first executable file called `name` in `env.PATH`, or null. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here (or not executable): keep looking
    }
  }
  return null;
}

/**
 * ghz's command line for a run: the config file, then the flags that replace its values (on ghz's command
 * line a flag wins over the config file), then the target. The run is bounded by `--duration` alone: ghz
 * ignores a call count whenever it has a duration (`--max-duration` too becomes one), so `--total` is not
 * passed and ghz runs for the whole duration, where the built-in runner stops at whichever comes first. The
 * data are the built-in runner's requests as protobuf JSON.
 */
export function ghzArgs(options: LoadOptions, target: string, configPath: string): string[] {
  return [
    `--config=${configPath}`,
    `--concurrency=${options.concurrency}`,
    `--duration=${Math.max(1, Math.round(options.durationSeconds * 1000))}ms`,
    `--data=${JSON.stringify(ghzCallData(options))}`,
    target,
  ];
}

/** Runs ghz with `env`, passing everything it prints to `write`; resolves with its exit code. */
export function runGhz(
  executable: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  write: (text: string) => void,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', write);
    child.stderr.setEncoding('utf8').on('data', write);
    child.once('error', reject);
    child.once('close', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}
