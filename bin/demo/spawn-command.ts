import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../voxelfeed.js', import.meta.url));

export interface RunningCommand {
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout (rejects if the process exits first). */
  waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

/** Runs `voxelfeed <args>` as a child process, collecting its output; `onStderrLine` sees each log line. */
export function spawnVoxelfeed(
  args: readonly string[],
  onStderrLine?: (line: string) => void,
): RunningCommand {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const watchers: Array<() => void> = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const watcher of [...watchers]) watcher();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onStderrLine?.(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStdout: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `voxelfeed ${args[0]} printed no ${pattern} within ${timeoutMs} ms:\n${stderr.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`voxelfeed ${args[0]} exited with ${code}:\n${stderr.slice(-2000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          child.off('exit', onExit);
          watchers.splice(watchers.indexOf(check), 1);
        };
        watchers.push(check);
        child.once('exit', onExit);
        check();
      }),
  };
}
