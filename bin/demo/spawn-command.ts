import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The voxelfeed entry that runs the same code as this module: bin/voxelfeed-dev.js (the TypeScript sources,
 * through tsx) when this is bin/demo/spawn-command.ts, bin/voxelfeed.js (the compiled code) when it is
 * bin/dist/demo/spawn-command.js. So the demo's servers and trainers, and the tests' children, never run a
 * build older than the sources they were started from.
 */
export const VOXELFEED_BIN = fileURLToPath(
  import.meta.url.endsWith('.ts')
    ? new URL('../voxelfeed-dev.js', import.meta.url)
    : new URL('../../voxelfeed.js', import.meta.url),
);

export interface SpawnVoxelfeedOptions {
  /** Merged over process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Sees each complete stderr (JSON log) line. */
  readonly onStderrLine?: (line: string) => void;
}

export interface RunningCommand {
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (rejects if the process exits first). */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Resolves with the first match of `pattern` in stderr (rejects if the process exits first). */
  waitForStderr(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

type StreamName = 'stdout' | 'stderr';

/** Runs `voxelfeed <args>` as a child process, collecting its output. */
export function spawnVoxelfeed(args: readonly string[], options: SpawnVoxelfeedOptions = {}): RunningCommand {
  const child = spawn(process.execPath, [VOXELFEED_BIN, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text: Record<StreamName, string> = { stdout: '', stderr: '' };
  const watchers: Record<StreamName, Array<() => void>> = { stdout: [], stderr: [] };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    text.stdout += chunk;
    for (const watcher of [...watchers.stdout]) watcher();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    text.stderr += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onStderrLine?.(line);
    for (const watcher of [...watchers.stderr]) watcher();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitFor = (stream: StreamName, pattern: RegExp, timeoutMs: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        cleanup();
        reject(new Error(`voxelfeed ${args[0]} ${why}:\n${text.stderr.slice(-2000)}`));
      };
      const check = () => {
        const match = pattern.exec(text[stream]);
        if (match) {
          cleanup();
          resolve(match);
        }
      };
      const timer = setTimeout(
        () => fail(`printed no ${pattern} on ${stream} within ${timeoutMs} ms`),
        timeoutMs,
      );
      const onExit = (code: number | null) =>
        fail(`exited with ${code} before printing ${pattern} on ${stream}`);
      const cleanup = () => {
        settled = true;
        clearTimeout(timer);
        child.off('exit', onExit);
        const index = watchers[stream].indexOf(check);
        if (index >= 0) watchers[stream].splice(index, 1);
      };
      watchers[stream].push(check);
      child.once('exit', onExit);
      check();
      // A wait that starts after the process is gone fails now rather than at its timeout.
      if (!settled && (child.exitCode !== null || child.signalCode !== null)) onExit(child.exitCode);
    });

  return {
    child,
    exited,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitForStdout: (pattern, timeoutMs) => waitFor('stdout', pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs) => waitFor('stderr', pattern, timeoutMs),
  };
}
