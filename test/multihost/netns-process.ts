import { type ChildProcess, spawn } from 'node:child_process';

export interface NetnsProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal); never rejects. */
  readonly exited: Promise<number | null>;
  /** SIGKILL if still running, then waits for the exit. */
  kill(): Promise<void>;
}

/**
 * Runs `node ARGS` inside network namespace `ns` (`ip netns exec` execs node in place, so the child's pid is
 * node's and a kill reaches it).
 */
export function spawnInNetns(ns: string, args: readonly string[]): NetnsProcess {
  return spawnProgramInNetns(ns, process.execPath, args);
}

/**
 * Runs `program ARGS` inside network namespace `ns` with this process's environment plus `env`; as with
 * spawnInNetns, the child's pid is the program's.
 */
export function spawnProgramInNetns(
  ns: string,
  program: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): NetnsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, program, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Waits for `process` to exit 0 within `timeoutMs`; otherwise kills it and rejects with its output. */
export async function exitedCleanly(process: NetnsProcess, label: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const code = await Promise.race([process.exited, timeout]);
  clearTimeout(timer);
  if (code === 0) return;
  await process.kill();
  const why = code === 'timeout' ? `did not finish within ${timeoutMs} ms` : `exited with ${code}`;
  throw new Error(`${label} ${why}:\n${process.stderr().slice(-4000)}`);
}
