import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { cleanEnv, runVoxelfeed } from '../support/run-voxelfeed.js';
import { VOXELFEED_BIN } from '../support/spawn-server.js';

/*
 * `voxelfeed preview` as users run it: refusals as one line with exit codes, and the crop browser's start
 * and clean stop. What it draws is tested in test/integration/preview-*.test.ts.
 */

describe('voxelfeed preview on the command line', () => {
  it('refuses a non-loopback --serve without --serve-public, a bad --every and bad --indices (exit 2)', async () => {
    const done = await runVoxelfeed(
      ['preview', '--serve', '0.0.0.0:0', '--every', '0', '--out', 'x'],
      {},
      60_000,
    );
    assert.equal(done.code, 2, done.stderr);
    assert.match(done.stderr, /--serve 0\.0\.0\.0:0: other machines could reach the crop browser/);
    assert.match(done.stderr, /--every 0: must be an integer from 1 to 4096/);
    assert.match(done.stderr, /--out with --serve/);
    const indices = await runVoxelfeed(['preview', '--out', 'x', '--indices', '1,-2'], {}, 60_000);
    assert.equal(indices.code, 2);
    assert.match(indices.stderr, /--indices 1,-2: give plan positions/);
    assert.doesNotMatch(`${done.stderr}${indices.stderr}`, /\n\s+at /);
  });

  it('says in one line that the server cannot be reached (exit 1)', async () => {
    const port = await freeLoopbackPort();
    const done = await runVoxelfeed(
      ['preview', '--server', `127.0.0.1:${port}`, '--out', 'unused', '--reconnect-attempts', '1'],
      {},
      60_000,
    );
    assert.equal(done.code, 1, done.stderr);
    assert.match(
      done.stderr,
      new RegExp(`^voxelfeed preview: cannot reach the server at 127\\.0\\.0\\.1:${port} .*\\n$`),
    );
  });

  it('prints the crop browser URL for port 0 and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [VOXELFEED_BIN, 'preview', '--serve', '127.0.0.1:0'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        const match = /crop browser at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /voxelfeed crop browser/);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
