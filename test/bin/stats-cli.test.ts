import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { runVoxelfeed } from '../support/run-voxelfeed.js';
import { type ServerProcess, spawnServer } from '../support/spawn-server.js';

describe('voxelfeed stats (the CLI against a served phantom data set)', { timeout: 120_000 }, () => {
  let dataset: TempDataset;
  let server: ServerProcess;
  let root: string;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-stats-cli-'));
    dataset = await createPhantomDataset({ series: 3, shape: [16, 48, 48] });
    server = await spawnServer(['--data', dataset.dir]);
  });

  after(async () => {
    await server?.stop();
    await dataset?.cleanup();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('prints the table, then one JSON line with every figure, and writes PNG histograms', async () => {
    const pngDir = path.join(root, 'png');
    const args = [
      'stats',
      '--server',
      server.address,
      '--crop',
      '8,24,24',
      '--batch',
      '3',
      '--negatives',
      '6',
    ];
    const { code, stdout, stderr } = await runVoxelfeed([...args, '--png-dir', pngDir]);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^\d+ steps of rank 0\/1, epoch 0, crop 8x24x24$/);
    assert.match(lines[1]!, /^mode +crops +any nodule voxel +whole nodule/);
    assert.ok(lines.some((line) => /^all +\d+ /.test(line)));
    assert.ok(lines.some((line) => line.startsWith('negative crops touching a nodule: ')));
    const json = JSON.parse(lines.at(-1)!) as {
      crops: number;
      steps: number;
      modes: Record<string, { crops: number }>;
      pngs: string[];
    };
    assert.equal(
      json.crops,
      ['jitter', 'center', 'negative'].reduce((sum, mode) => sum + json.modes[mode]!.crops, 0),
    );
    assert.ok(json.crops > 0 && json.crops <= json.steps * 3);
    assert.ok(json.pngs.length >= 2, stdout);
    for (const file of json.pngs) {
      assert.ok(file.startsWith(pngDir));
      const png = PNG.sync.read(await readFile(file));
      assert.ok(png.width > 0 && png.height > 0);
    }
  });

  it('exits 2 naming every bad option, one line each, without a stack', async () => {
    const bad = await runVoxelfeed([
      'stats',
      '--rank',
      '2',
      '--world-size',
      '2',
      '--crop',
      '8,8',
      '--steps',
      '-1',
    ]);
    assert.equal(bad.code, 2);
    for (const fragment of [
      'voxelfeed stats: bad options:',
      '--rank 2',
      '--crop 8,8',
      '--steps -1',
      'voxelfeed stats --help',
    ]) {
      assert.ok(bad.stderr.includes(fragment), `"${bad.stderr}" lacks "${fragment}"`);
    }
    assert.doesNotMatch(bad.stderr, /\n\s+at /);
    assert.equal(bad.stdout, '');
  });

  it('says in one line that no server answers, naming the address and the fix', async () => {
    const port = await freeLoopbackPort();
    const { code, stdout, stderr } = await runVoxelfeed([
      'stats',
      '--server',
      `127.0.0.1:${port}`,
      '--reconnect-attempts',
      '1',
    ]);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
    assert.match(
      stderr,
      new RegExp(`^voxelfeed stats: cannot reach the server at 127\\.0\\.0\\.1:${port} .*--server`),
    );
  });

  it('prints its usage for --help', async () => {
    const { code, stdout } = await runVoxelfeed(['stats', '--help']);
    assert.equal(code, 0);
    assert.match(stdout, /^Usage: voxelfeed stats --server HOST:PORT/);
    for (const flag of ['--png-dir', '--steps', '--samples-per-nodule', '--tls-ca'])
      assert.ok(stdout.includes(flag), flag);
  });
});
