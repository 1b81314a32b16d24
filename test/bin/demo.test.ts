import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { VOXELFEED_BIN } from '../support/spawn-server.js';

const run = promisify(execFile);

/** The main job, shortened: the phantom data set, a server and two trainer processes on 127.0.0.1. */
describe('voxelfeed demo', () => {
  let cacheDir: string;
  before(async () => {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-demo-'));
  });
  after(async () => {
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('trains two ranks against a server and ends with a JSON summary whose loss went down', {
    timeout: 240_000,
  }, async () => {
    const { stdout } = await run(
      process.execPath,
      [VOXELFEED_BIN, 'demo', '--steps', '30', '--crop', '8,16,16'],
      {
        env: { ...process.env, VOXELFEED_CACHE_DIR: cacheDir },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 230_000,
      },
    );
    const lines = stdout.trim().split('\n');
    const summary = JSON.parse(lines.at(-1)!);
    assert.equal(summary.ranks, 2);
    assert.equal(summary.steps_per_rank, 30);
    assert.ok(summary.samples_per_s > 0, `samples/s ${summary.samples_per_s}`);
    assert.ok(summary.gpu_idle_ratio >= 0 && summary.gpu_idle_ratio < 1, `idle ${summary.gpu_idle_ratio}`);
    assert.ok(summary.loss_last < summary.loss_first, `loss ${summary.loss_first} -> ${summary.loss_last}`);
    assert.ok(
      summary.loader_p50_ms > 0 && summary.loader_p99_ms >= summary.loader_p50_ms,
      JSON.stringify(summary),
    );
    assert.ok(
      summary.cache_hit_ratio > 0 && summary.cache_hit_ratio <= 1,
      `hit ratio ${summary.cache_hit_ratio}`,
    );
    assert.ok(lines.some((line) => /rank 0/.test(line)) && lines.some((line) => /rank 1/.test(line)), stdout);
    assert.ok(stdout.includes('loss went') && stdout.includes('down'));
  });

  it('refuses --steps 0, which would train without end, before starting anything', async () => {
    const refused = await run(process.execPath, [VOXELFEED_BIN, 'demo', '--steps', '0'], {
      env: { ...process.env, VOXELFEED_CACHE_DIR: cacheDir },
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    assert.ok(refused, 'voxelfeed demo --steps 0 exited 0');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /--steps 0/);
    assert.match(refused.stderr, /1 to 1000000/);
  });
});
