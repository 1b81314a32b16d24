import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { spawnVoxelfeed } from '../../bin/demo/spawn-command.js';

export { VOXELFEED_BIN } from '../../bin/demo/spawn-command.js';

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
  const server = spawnVoxelfeed(
    ['serve', '--host', '127.0.0.1', '--port', '0', '--metrics-port', '0', ...args],
    { env },
  );
  const { child } = server;
  let port: number;
  try {
    port = Number((await server.waitForStdout(/listening on .*:(\d+)/, timeoutMs))[1]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    port,
    address: `127.0.0.1:${port}`,
    stderr: server.stderr,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await once(child, 'exit');
      return code as number | null;
    },
  };
}

export type LogLine = Record<string, unknown>;

/**
 * The JSON log lines a server wrote to stderr so far, skipping anything else it printed; only those whose
 * `msg` starts with `msg` when given.
 */
export function logLines(server: Pick<ServerProcess, 'stderr'>, msg?: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of server.stderr().split('\n')) {
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      continue;
    }
    if (typeof line !== 'object' || line === null || Array.isArray(line)) continue;
    const entry = line as LogLine;
    const text = entry['msg'];
    if (msg === undefined || (typeof text === 'string' && text.startsWith(msg))) lines.push(entry);
  }
  return lines;
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
