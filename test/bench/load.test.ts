import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { latencyPercentiles } from '../../bench/load/latency-percentiles.js';
import { runLoadCommand } from '../../bench/load/load-command.js';
import { type LoadOptions, parseLoadOptions } from '../../bench/load/load-options.js';
import { GHZ_CONFIG_DIR } from '../../bench/load/run-ghz.js';
import { runLoad } from '../../bench/load/run-load.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

function options(argv: readonly string[]): LoadOptions {
  const parsed = parseLoadOptions(argv);
  assert.notEqual(parsed, 'help');
  return parsed as LoadOptions;
}

/** Runs `npm run load` in this process with its output captured. */
async function loadCommand(argv: readonly string[], env: NodeJS.ProcessEnv) {
  let out = '';
  let err = '';
  const code = await runLoadCommand(argv, env, {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
  });
  const last = out.trimEnd().split('\n').at(-1) ?? '';
  return { code, out, err, json: (last.startsWith('{') ? JSON.parse(last) : {}) as Record<string, unknown> };
}

describe('latencyPercentiles', () => {
  it('takes nearest ranks: of 1..100 ms, p50 is 50, p95 is 95 and p99 is 99', () => {
    // Shuffled, so the order of the input cannot matter.
    const values = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    assert.deepEqual(latencyPercentiles(values), { count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('gives the only value for every percentile of one latency, and null for none', () => {
    assert.deepEqual(latencyPercentiles([7.5]), { count: 1, p50: 7.5, p95: 7.5, p99: 7.5, max: 7.5 });
    assert.equal(latencyPercentiles([]), null);
  });
});

describe('npm run load', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let temp: string;
  const crop = [8, 16, 16] as const;
  const cropVoxels = crop[0] * crop[1] * crop[2];

  before(async () => {
    dataset = await createPhantomDataset({ series: 3, shape: [24, 48, 48] });
    server = await startTestServer({ data: dataset.dir });
    temp = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-load-'));
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  it('makes exactly --total stream calls with no error, each delivering --steps batches of --batch-size', async () => {
    const argv = ['--call', 'stream-batches', '--total', '12', '--concurrency', '3', '--batch-size', '4'];
    const result = await runLoad(
      options([...argv, '--steps', '2', '--crop', crop.join(','), '--duration', '60']),
      server.address,
    );
    assert.deepEqual(result.errors, {});
    assert.equal(result.calls, 12);
    assert.equal(result.ok, 12);
    assert.equal(result.interrupted, 0);
    assert.equal(result.batches, 12 * 2);
    assert.equal(result.crops, 12 * 2 * 4);
    assert.equal(result.bytes, result.crops * cropVoxels * 2, 'uint8 image + mask per crop');
    const latency = result.latencyMs!;
    assert.equal(latency.count, result.batches, 'one latency per batch');
    assert.ok(0 < latency.p50 && latency.p50 <= latency.p95, JSON.stringify(latency));
    assert.ok(latency.p95 <= latency.p99 && latency.p99 <= latency.max, JSON.stringify(latency));
    assert.ok(latency.max <= result.seconds * 1000, 'no batch took longer than the run');
  });

  it('makes exactly --total GetSample calls, one crop and one latency per call', async () => {
    const result = await runLoad(
      options(['--call', 'get-sample', '--total', '20', '--concurrency', '4', '--crop', crop.join(',')]),
      server.address,
    );
    assert.deepEqual(result.errors, {});
    assert.equal(result.ok, 20);
    assert.equal(result.crops, 20);
    assert.equal(result.latencyMs?.count, 20);
    assert.ok(result.latencyMs.p50 <= result.latencyMs.p95 && result.latencyMs.p95 <= result.latencyMs.p99);
  });

  it('counts every call as UNAVAILABLE when nothing listens at the target', async () => {
    const port = await freeLoopbackPort();
    const result = await runLoad(options(['--total', '3', '--concurrency', '2']), `127.0.0.1:${port}`);
    assert.deepEqual(result.errors, { UNAVAILABLE: 3 });
    assert.equal(result.ok, 0);
    assert.equal(result.crops, 0);
    assert.equal(result.latencyMs, null);
  });

  it('counts every call as INVALID_ARGUMENT when the server refuses the request, with its message', async () => {
    // 200^3 voxels is over the server's default limit of 128^3 per sample.
    const result = await runLoad(
      options(['--call', 'get-sample', '--total', '4', '--crop', '200,200,200']),
      server.address,
    );
    assert.deepEqual(result.errors, { INVALID_ARGUMENT: 4 });
    assert.match(result.errorMessages['INVALID_ARGUMENT'] ?? '', /200x200x200/);
  });

  it('stops at --duration when --total is far away, and says the run failed no call', async () => {
    const { code, json } = await loadCommand(
      ['--target', server.address, '--total', '10000000', '--duration', '1.5', '--steps', '1', '--no-ghz'],
      process.env,
    );
    assert.equal(code, 0);
    assert.equal(json['tool'], 'voxelfeed');
    assert.ok((json['calls'] as number) > 0 && (json['calls'] as number) < 10_000_000, String(json['calls']));
    // The run ends at the deadline; the slack covers cancelling calls on a busy 2-core machine, and 1.5 s leaves
    // time for a first call even there (0.5 s saw none under a load average of 8).
    assert.ok((json['seconds'] as number) >= 1.5 && (json['seconds'] as number) < 4, String(json['seconds']));
  });

  it('exits 2 and names the fix for a bad command line', async () => {
    const { code, err } = await loadCommand(['--concurrency', '0', '--call', 'nope'], process.env);
    assert.equal(code, 2);
    assert.match(err, /--concurrency 0: must be an integer from 1 to 1024/);
    assert.match(err, /--call nope: use get-sample or stream-batches/);
  });

  it('refuses a --target port above 65535, naming the port and the range', () => {
    assert.throws(
      () => parseLoadOptions(['--target', '127.0.0.1:99999']),
      /--target 127\.0\.0\.1:99999: port 99999 is out of range: a port is 1 to 65535/,
    );
    assert.equal(options(['--target', '[::1]:50051']).target, '[::1]:50051');
  });

  describe('with ghz on PATH', () => {
    let bin: string;
    let argsFile: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      bin = path.join(temp, 'bin');
      argsFile = path.join(temp, 'ghz-args.txt');
      await mkdir(bin);
      // A stand-in for ghz: records its arguments one per line and prints a summary like ghz's.
      await writeFile(
        path.join(bin, 'ghz'),
        `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile}"\nprintf 'Summary:\\n  Count:\\t12\\n'\n`,
      );
      await chmod(path.join(bin, 'ghz'), 0o755);
      env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` };
    });

    it('runs ghz instead, with the matching deploy/ghz config, the same duration and requests, and no count', async () => {
      const { code, out, err, json } = await loadCommand(
        [
          ...['--target', server.address, '--call', 'stream-batches', '--concurrency', '3', '--total', '12'],
          ...['--duration', '7.5', '--batch-size', '4', '--steps', '2', '--crop', crop.join(',')],
        ],
        env,
      );
      assert.equal(code, 0);
      assert.match(out, /^Summary:\n {2}Count:\t12\n/, 'ghz summary printed as written');
      assert.equal(json['tool'], 'ghz');
      const args = (await readFile(argsFile, 'utf8')).trimEnd().split('\n');
      // ghz ignores --total whenever it has a duration (--max-duration included): the run lasts --duration.
      assert.deepEqual(args.slice(0, 3), [
        `--config=${path.join(GHZ_CONFIG_DIR, 'stream-batches.json')}`,
        '--concurrency=3',
        '--duration=7500ms',
      ]);
      assert.ok(args[3]?.startsWith('--data='), args[3]);
      const data = JSON.parse(args[3]!.slice('--data='.length)) as Record<string, unknown>;
      assert.deepEqual(
        [data['batchSize'], data['cropSize'], data['maxSteps'], data['dtype']],
        [4, [...crop], '2', 'DTYPE_UINT8'],
      );
      assert.equal(args[4], server.address);
      assert.equal(args.length, 5);
      assert.match(err, /for 7\.5 s .*--total 12 does not apply/, 'the console says what bounds the ghz run');
    });

    it('passes GetSample runs the get-sample config and a round-robin array of requests', async () => {
      await loadCommand(
        ['--target', server.address, '--call', 'get-sample', '--total', '2', '--concurrency', '8'],
        env,
      );
      const args = (await readFile(argsFile, 'utf8')).trimEnd().split('\n');
      assert.equal(args[0], `--config=${path.join(GHZ_CONFIG_DIR, 'get-sample.json')}`);
      assert.equal(args[1], '--concurrency=8');
      const data = JSON.parse(args[3]!.slice('--data='.length)) as Array<Record<string, unknown>>;
      assert.deepEqual(
        data.map((request) => request['index']),
        data.map((_, i) => String(i)),
      );
    });

    it('keeps the built-in client with --no-ghz', async () => {
      await rm(argsFile, { force: true });
      const { code, json } = await loadCommand(
        ['--target', server.address, '--total', '2', '--steps', '1', '--crop', crop.join(','), '--no-ghz'],
        env,
      );
      assert.equal(code, 0);
      assert.equal(json['tool'], 'voxelfeed');
      assert.equal(json['calls'], 2);
      await assert.rejects(readFile(argsFile), { code: 'ENOENT' }, 'ghz was not run');
    });
  });
});
