import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Resident set size of process `pid`, in bytes: VmRSS from /proc/<pid>/status on Linux (a file read, cheap
 * enough every second), else `ps -o rss=` (macOS, BSD). Both report KiB.
 */
export async function processRssBytes(pid: number): Promise<number> {
  let text: string;
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    if (match === null) throw new Error(`no VmRSS line in /proc/${pid}/status; is ${pid} a zombie?`);
    text = match[1]!;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = (await run('ps', ['-o', 'rss=', '-p', String(pid)])).stdout.trim();
  }
  const kib = Number(text);
  if (!Number.isSafeInteger(kib) || kib <= 0) throw new Error(`RSS of process ${pid} read as "${text}"`);
  return kib * 1024;
}
