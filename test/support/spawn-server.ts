import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const VOXELFEED_BIN = fileURLToPath(new URL('../../bin/voxelfeed.js', import.meta.url));

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly address: string;
  readonly port: number;
  /** Everything the process wrote to stderr so far (JSON log lines). */
  stderr(): string;
  /** SIGTERM, then wait for exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `voxelfeed serve` as a separate process on 127.0.0.1 and an ephemeral port, and resolves once it
 * prints "listening on HOST:PORT". Rejects with its stderr if it exits first or takes longer than `timeoutMs`.
 */
export async function spawnServer(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [VOXELFEED_BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`voxelfeed serve did not start within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening on .*:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`voxelfeed serve exited with ${code} before listening:\n${stderr}`));
    });
  });
  return {
    child,
    port,
    address: `127.0.0.1:${port}`,
    stderr: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
}

/**
 * Starts `voxelfeed serve` again on the port a killed server held, as a client that resumes would find it.
 * Retries a few times: the kernel may still hold the port for a moment after the kill.
 */
export async function respawnOnPort(
  port: number,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const failures: string[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await spawnServer([...args, '--port', String(port)], env, 30_000);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new Error(`could not restart on port ${port}:\n${failures.join('\n')}`);
}
