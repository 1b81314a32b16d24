import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { INSTALL_TEST_TOOLS } from './debian-test-tools.js';

export type PrometheusTool = 'prometheus' | 'promtool';

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The path of `prometheus` or `promtool` on PATH. Both come with Debian's `prometheus` package, which
 * `scripts/ensure-test-tools.sh` installs (CI runs it); rejects with the command to run.
 */
export async function findPrometheusTool(name: PrometheusTool): Promise<string> {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter((dir) => dir !== '');
  for (const dir of [...dirs, '/usr/bin', '/usr/local/bin']) {
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  throw new Error(
    `${name} is not installed: the Debian package prometheus provides it; ` +
      `install the test tools with: ${INSTALL_TEST_TOOLS}`,
  );
}

/** Runs `promtool <args>` in `cwd`, feeding `input` on stdin; kills it after `timeoutMs`. */
export async function runPromtool(
  args: readonly string[],
  options: { cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const promtool = await findPrometheusTool('promtool');
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(promtool, [...args], {
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promtool ${args.join(' ')} took longer than ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
