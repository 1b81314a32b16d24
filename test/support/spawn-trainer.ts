import { type ChildProcess, spawn } from 'node:child_process';
import { VOXELFEED_BIN } from './spawn-server.js';

export interface TrainerProcess {
  readonly child: ChildProcess;
  /** The trainer's own metrics page, as it logged it: http://HOST:PORT/metrics */
  readonly metricsUrl: string;
  /** Everything the process wrote to stderr so far (JSON log lines). */
  stderr(): string;
  /** SIGTERM (SIGKILL after 10 s), then wait for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `voxelfeed train <args>` as a separate process and resolves once it logs "metrics on URL" (pass
 * `--metrics-port 0`). Rejects with its stderr if it exits first or takes longer than `timeoutMs`.
 */
export async function spawnTrainer(args: readonly string[], timeoutMs = 60_000): Promise<TrainerProcess> {
  const child = spawn(process.execPath, [VOXELFEED_BIN, 'train', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  // Not events.once: it would reject on a spawn 'error' with nobody listening.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const metricsUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`voxelfeed train served no metrics within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /"msg":"metrics on (http:\/\/[^"\s]+)"/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`voxelfeed train exited with ${code} before serving metrics:\n${stderr}`));
    });
  });
  return {
    child,
    metricsUrl,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
