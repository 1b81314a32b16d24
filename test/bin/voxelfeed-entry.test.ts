import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { USAGE } from '../../bin/voxelfeed-cli.js';

const run = promisify(execFile);
const BIN_DIR = fileURLToPath(new URL('../../bin/', import.meta.url));

/** Runs `node SCRIPT ARGS` in `cwd` to its end; a non-zero exit resolves too. */
async function node(script: string, args: readonly string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { cwd, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('the voxelfeed entry scripts', { timeout: 120_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-entry-'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('bin/voxelfeed.js without a build says in one line to run npm run build, and exits 1', async () => {
    // The entry as installed, beside no bin/dist: a copy, since this checkout may hold a build.
    const bin = path.join(dir, 'bin');
    await mkdir(bin);
    for (const name of ['voxelfeed.js', 'run-cli.js'])
      await copyFile(path.join(BIN_DIR, name), path.join(bin, name));
    const { code, stdout, stderr } = await node(path.join(bin, 'voxelfeed.js'), ['serve'], dir);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    assert.match(stderr, /^voxelfeed: no compiled code .*run `npm run build`/);
  });

  it('bin/voxelfeed-dev.js runs the TypeScript sources from any working folder', async () => {
    // Outside the repository tsx finds no tsconfig by itself: the script names the repository's, whose paths
    // map the @voxelfeed/* packages to their sources.
    const { code, stdout, stderr } = await node(path.join(BIN_DIR, 'voxelfeed-dev.js'), ['--help'], dir);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `${USAGE}\n`);
    const serve = await node(path.join(BIN_DIR, 'voxelfeed-dev.js'), ['serve', '--help'], dir);
    assert.equal(serve.code, 0, serve.stderr);
    assert.match(serve.stdout, /^Usage: voxelfeed serve/);
  });

  it('ends quietly with status 0 when the reader of its output goes away (`| head`)', async () => {
    const data = path.join(dir, 'tiny');
    const synth = await node(
      path.join(BIN_DIR, 'voxelfeed-dev.js'),
      ['synth', data, '--series', '2', '--shape', '16,16,16'],
      dir,
    );
    assert.equal(synth.code, 0, synth.stderr);
    // The read end is closed before the command writes its first line, so that write fails with EPIPE.
    const child = spawn(process.execPath, [path.join(BIN_DIR, 'voxelfeed-dev.js'), 'index', data], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
