import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { VOXELFEED_BIN } from './spawn-server.js';

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The parent's environment without VOXELFEED_* variables, so a developer's settings cannot change a result. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('VOXELFEED_')),
  );
  return { ...env, ...extra };
}

/**
 * Runs `node bin/voxelfeed.js ARGS` in a child process to its end, with `env` over a clean environment.
 * `timeoutMs` kills (SIGKILL) a command that does not end by itself (a serve that starts), failing the test
 * that waits.
 */
export async function runVoxelfeed(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs?: number,
): Promise<Finished> {
  const child = spawn(process.execPath, [VOXELFEED_BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(timeoutMs === undefined ? {} : { timeout: timeoutMs, killSignal: 'SIGKILL' as const }),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = await once(child, 'close');
  return { code: code as number | null, stdout, stderr };
}
