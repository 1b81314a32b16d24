import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnVoxelfeed } from '../../bin/demo/spawn-command.js';

/*
 * An error the CLI has no one-line message for: bin/voxelfeed.js prints it itself and exits 1. Left uncaught,
 * Node printed the source line it came through, which with the wasm backend loaded is a 36 KB minified line
 * of the emscripten module (it re-throws every uncaught error), and exited 7.
 */
describe('voxelfeed train with an error the CLI has no line for', { timeout: 120_000 }, () => {
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-unexpected-'));
    // A checkpoint pointer that is not JSON: loading it throws a plain Error once the backend is loaded.
    await writeFile(path.join(dir, 'latest.json'), 'not json');
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 1 with the message and no minified source line', async () => {
    const trainer = spawnVoxelfeed(
      [
        'train',
        '--server',
        '127.0.0.1:1',
        '--model',
        'tiny',
        '--backend',
        'wasm',
        '--metrics-port',
        'off',
        '--checkpoint-dir',
        dir,
        '--resume',
      ],
      { env: { VOXELFEED_LOG_LEVEL: undefined } },
    );
    const killer = setTimeout(() => trainer.child.kill('SIGKILL'), 90_000);
    const code = await trainer.exited;
    clearTimeout(killer);
    const stderr = trainer.stderr();
    assert.equal(code, 1, stderr.slice(0, 2000));
    assert.ok(stderr.includes(`${path.join(dir, 'latest.json')} is unreadable`), stderr.slice(0, 2000));
    assert.doesNotMatch(stderr, /tfjs-backend-wasm\.js/);
    const longest = Math.max(...stderr.split('\n').map((line) => line.length));
    assert.ok(longest < 1000, `a line of ${longest} characters on stderr`);
  });
});
