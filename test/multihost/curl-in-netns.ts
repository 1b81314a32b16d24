import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The body of `url` fetched with curl from inside network namespace `ns`; rejects on any HTTP error. */
export async function curlInNetns(ns: string, url: string): Promise<string> {
  const { stdout } = await exec('ip', ['netns', 'exec', ns, 'curl', '-sf', '--max-time', '5', url], {
    timeout: 10_000,
    maxBuffer: 8 * 1024 * 1024,
  });
  return stdout;
}
