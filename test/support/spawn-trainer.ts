import type { ChildProcess } from 'node:child_process';
import { spawnVoxelfeed } from '../../bin/demo/spawn-command.js';

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
  const trainer = spawnVoxelfeed(['train', ...args]);
  const { child } = trainer;
  let metricsUrl: string;
  try {
    metricsUrl = (await trainer.waitForStderr(/"msg":"metrics on (http:\/\/[^"\s]+)"/, timeoutMs))[1]!;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    child,
    metricsUrl,
    stderr: trainer.stderr,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await trainer.exited;
      clearTimeout(killer);
    },
  };
}
