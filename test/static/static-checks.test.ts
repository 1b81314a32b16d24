import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

async function check(command: string, args: string[]): Promise<void> {
  try {
    await run(command, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    assert.fail(`${path.basename(command)} ${args.join(' ')} failed:\n${stdout}${stderr}`);
  }
}

describe('the source tree', () => {
  it('type-checks under the strict tsconfig', { timeout: 240_000 }, async () => {
    await check(bin('tsc'), ['-p', 'tsconfig.json']);
  });

  it('passes the Biome format and lint checks', { timeout: 120_000 }, async () => {
    await check(bin('biome'), ['check', '--error-on-warnings', '.']);
  });
});
