import childProcess, { type ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { promisify } from 'node:util';

export interface ChildProcessHooks {
  /** Throws to refuse running `command` (for exec and execSync, the whole shell command line). */
  readonly before?: (command: string, shell: boolean) => void;
  /** Adds to the message of `error`, the failure to start or run `command` (stderr where one was collected). */
  readonly explain?: (command: string, error: Error, stderr: string) => void;
}

type AnyFunction = (...args: unknown[]) => unknown;
type PromisifiedExecFile = AnyFunction & { [promisify.custom]?: AnyFunction };

function text(output: unknown): string {
  return typeof output === 'string' ? output : Buffer.isBuffer(output) ? output.toString('utf8') : '';
}

/**
 * Wraps the functions of node:child_process (for this process: the test files a tier runs, and everything
 * they import) so that `hooks` see each command. Named ESM imports of node:child_process see the wrappers
 * too, as long as this runs before the importing module is evaluated (a `node --import` preload).
 */
export function hookChildProcess(hooks: ChildProcessHooks): void {
  const before = hooks.before ?? (() => {});
  const explain = hooks.explain ?? (() => {});
  const exports = childProcess as unknown as Record<string, AnyFunction>;
  const original = { ...exports } as Record<string, AnyFunction>;
  const call = (name: string, self: unknown, args: unknown[]): unknown => original[name]!.apply(self, args);

  const explainErrorEvents = (command: string, child: ChildProcess): ChildProcess => {
    const emit = child.emit as (this: ChildProcess, event: string | symbol, ...rest: unknown[]) => boolean;
    child.emit = function (this: ChildProcess, event: string | symbol, ...rest: unknown[]): boolean {
      if (event === 'error' && rest[0] instanceof Error) explain(command, rest[0], '');
      return emit.call(this, event, ...rest);
    } as ChildProcess['emit'];
    return child;
  };

  exports['spawn'] = function (this: unknown, ...args: unknown[]) {
    const command = String(args[0]);
    before(command, false);
    return explainErrorEvents(command, call('spawn', this, args) as ChildProcess);
  };

  exports['spawnSync'] = function (this: unknown, ...args: unknown[]) {
    const command = String(args[0]);
    before(command, false);
    const result = call('spawnSync', this, args) as { error?: Error; stderr?: unknown };
    if (result.error !== undefined) explain(command, result.error, text(result.stderr));
    return result;
  };

  const execFile: PromisifiedExecFile = function (this: unknown, ...args: unknown[]) {
    const command = String(args[0]);
    before(command, false);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: Error | null, stdout: unknown, stderr: unknown) => {
        if (error !== null) explain(command, error, text(stderr));
        callback(error, stdout, stderr);
      };
    }
    return explainErrorEvents(command, call('execFile', this, args) as ChildProcess);
  };
  const promised = (original['execFile'] as PromisifiedExecFile)[promisify.custom];
  if (promised !== undefined) {
    // promisify(execFile) resolves with { stdout, stderr } and carries the child; keep both.
    execFile[promisify.custom] = (...args: unknown[]) => {
      const command = String(args[0]);
      before(command, false);
      const running = promised(...args) as Promise<unknown> & { child?: ChildProcess };
      const explained = running.catch((error: unknown) => {
        if (error instanceof Error) explain(command, error, text((error as { stderr?: unknown }).stderr));
        throw error;
      }) as Promise<unknown> & { child?: ChildProcess };
      if (running.child !== undefined) explained.child = running.child;
      return explained;
    };
  }
  exports['execFile'] = execFile;

  exports['execFileSync'] = function (this: unknown, ...args: unknown[]) {
    const command = String(args[0]);
    before(command, false);
    try {
      return call('execFileSync', this, args);
    } catch (error) {
      if (error instanceof Error) explain(command, error, text((error as { stderr?: unknown }).stderr));
      throw error;
    }
  };

  for (const name of ['exec', 'execSync'] as const) {
    exports[name] = function (this: unknown, ...args: unknown[]) {
      before(String(args[0]), true);
      return call(name, this, args);
    };
  }

  syncBuiltinESMExports();
}

/** Appends `line` to the message of `error`, and to the first line of its stack, which repeats the message. */
export function appendToMessage(error: Error, line: string): void {
  const head = `${error.name}: ${error.message}`;
  error.message = `${error.message}\n${line}`;
  if (typeof error.stack === 'string' && error.stack.startsWith(head)) {
    error.stack = `${head}\n${line}${error.stack.slice(head.length)}`;
  }
}
