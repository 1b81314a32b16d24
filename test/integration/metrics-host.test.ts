import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { VOXELFEED_BIN } from '../support/spawn-server.js';

const GRPC_HOST = '127.0.0.1';
/** Another loopback address (all of 127.0.0.0/8 is loopback on Linux), so nothing leaves this machine. */
const METRICS_HOST = '127.0.0.2';
const START_MS = 60_000;

/** Whether this machine can listen on `host` (macOS, for one, has only 127.0.0.1 on its loopback by default). */
async function canListenOn(host: string): Promise<boolean> {
  const probe = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, host, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    if (probe.listening) await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}

/** Reads the child's stdout until `pattern` has matched `count` lines; rejects with stderr on exit or timeout. */
function readStdoutLines(child: ChildProcess, pattern: RegExp, count: number, stderr: () => string) {
  return new Promise<string[]>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`no ${count} lines in ${START_MS} ms:\n${stderr()}`)),
      START_MS,
    );
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const lines = stdout.split('\n').filter((line) => pattern.test(line));
      if (lines.length >= count) {
        clearTimeout(timer);
        resolve(lines);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`voxelfeed serve exited with ${code}:\n${stderr()}`));
    });
  });
}

describe('voxelfeed serve --metrics-host', { timeout: 90_000 }, async () => {
  const supported = await canListenOn(METRICS_HOST);
  let dataset: TempDataset;
  let child: ChildProcess;
  let stderr = '';
  let lines: string[] = [];

  before(async () => {
    if (!supported) return;
    dataset = await createPhantomDataset({ series: 2, shape: [16, 24, 24], seed: 3n });
    child = spawn(
      process.execPath,
      [
        ...[VOXELFEED_BIN, 'serve', '--data', dataset.dir, '--log-level', 'warn'],
        ...['--host', GRPC_HOST, '--port', '0', '--metrics-host', METRICS_HOST, '--metrics-port', '0'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    lines = await readStdoutLines(child, /^(listening|metrics) on /, 2, () => stderr);
  });

  after(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await dataset?.cleanup();
  });

  it('serves /metrics on the metrics host and says so, while gRPC stays on --host', {
    skip: supported ? false : `cannot listen on ${METRICS_HOST} here`,
  }, async () => {
    const [listening, metrics] = lines;
    assert.match(listening ?? '', new RegExp(`^listening on ${GRPC_HOST}:\\d+$`));
    const match = new RegExp(
      `^metrics on http://${METRICS_HOST.replaceAll('.', '\\.')}:(\\d+)/metrics$`,
    ).exec(metrics ?? '');
    assert.ok(match, `stdout said ${JSON.stringify(metrics)}`);
    const port = Number(match[1]);
    const response = await fetch(`http://${METRICS_HOST}:${port}/metrics`);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^# TYPE grpc_server_handled_total counter$/m);
    // Nothing of ours on --host at that port: the metrics listener is bound to METRICS_HOST only.
    const onGrpcHost = await fetch(`http://${GRPC_HOST}:${port}/metrics`).then(
      async (other) => other.text(),
      () => '',
    );
    assert.doesNotMatch(onGrpcHost, /grpc_server_handled_total/);
  });
});
