import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type RunningCommand, spawnVoxelfeed } from '../../bin/demo/spawn-command.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { type Finished, runVoxelfeed } from '../support/run-voxelfeed.js';
import { healthStatus } from '../support/standard-services.js';

/*
 * `voxelfeed serve` and `voxelfeed train` as separate processes, with a port they were told to use already
 * taken: each must exit non-zero having printed one line that names the address, the option and the fix, and
 * no stack trace. The server checks its ports before it indexes the data set, and binds /metrics before gRPC
 * (startServer's test covers a port taken in between), so a server refused here never served gRPC: its
 * stderr holds no log line at all, not even the one of indexing.
 */

const EXIT_MS = 60_000;

/** The parent's environment minus VOXELFEED_* variables, plus `extra`: a developer's settings change nothing. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of Object.keys(process.env)) if (name.startsWith('VOXELFEED_')) env[name] = undefined;
  return { ...env, ...extra };
}

/** Runs the command to its exit (SIGKILL after EXIT_MS): the exit code and both outputs. */
function runToExit(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return runVoxelfeed(args, env, EXIT_MS);
}

/** Exactly one line on stderr, `voxelfeed <command>: ...`, with every fragment in it and no stack frame. */
function assertOneLine(stderr: string, command: string, fragments: readonly string[]): void {
  assert.match(stderr, new RegExp(`^voxelfeed ${command}: [^\\n]+\\n$`), `not one line:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m);
  for (const fragment of fragments) assert.ok(stderr.includes(fragment), `"${stderr}" lacks "${fragment}"`);
}

async function listen(port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as { port: number }).port };
}

describe('a port in use', { timeout: 180_000 }, () => {
  let dataset: TempDataset;
  let held: { server: Server; port: number };

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 32, 32] });
    held = await listen();
  });

  after(async () => {
    await new Promise<void>((resolve) => held.server.close(() => resolve()));
    await dataset.cleanup();
  });

  it('makes serve exit 1 before indexing, naming --metrics-port, 0 and off', async () => {
    const { code, stdout, stderr } = await runToExit([
      'serve',
      '--data',
      dataset.dir,
      '--port',
      '0',
      '--metrics-port',
      String(held.port),
    ]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assertOneLine(stderr, 'serve', [
      `cannot serve /metrics on 127.0.0.1:${held.port}`,
      'already in use',
      '--metrics-port (VOXELFEED_METRICS_PORT) to 0 for a free port',
      'to off for no metrics',
    ]);
  });

  it('is named the same way when VOXELFEED_METRICS_PORT chose it', async () => {
    const { code, stderr } = await runToExit(['serve', '--data', dataset.dir, '--port', '0'], {
      VOXELFEED_METRICS_PORT: String(held.port),
    });
    assert.equal(code, 1);
    assertOneLine(stderr, 'serve', [`/metrics on 127.0.0.1:${held.port}`, 'VOXELFEED_METRICS_PORT']);
  });

  it('makes serve exit 1 on the gRPC port, naming --port and 0', async () => {
    const { code, stdout, stderr } = await runToExit([
      'serve',
      '--data',
      dataset.dir,
      '--port',
      String(held.port),
      '--metrics-port',
      '0',
    ]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assertOneLine(stderr, 'serve', [
      `cannot serve gRPC on 127.0.0.1:${held.port}`,
      'already in use',
      '--port (VOXELFEED_PORT) to another port, or to 0',
    ]);
  });

  it('makes serve exit 1 on an address of another host, naming --host', async () => {
    // TEST-NET-1 (RFC 5737) is no address of this host: the bind fails at once, nothing is sent.
    const { code, stderr } = await runToExit([
      'serve',
      '--data',
      dataset.dir,
      '--host',
      '192.0.2.1',
      '--port',
      '0',
    ]);
    assert.equal(code, 1);
    assertOneLine(stderr, 'serve', [
      'cannot serve gRPC on 192.0.2.1:0',
      'not an address of this host',
      '--host (VOXELFEED_HOST)',
    ]);
  });

  it("makes train exit 1 before building its model, naming the trainer's --metrics-port, 0 and off", async () => {
    const { code, stdout, stderr } = await runToExit([
      'train',
      '--server',
      '127.0.0.1:1',
      '--model',
      'tiny',
      '--backend',
      'cpu',
      '--metrics-port',
      String(held.port),
    ]);
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assertOneLine(stderr, 'train', [
      `cannot serve the trainer's /metrics on 127.0.0.1:${held.port}`,
      'already in use',
      '--metrics-port (VOXELFEED_TRAIN_METRICS_PORT) to 0 for a free port',
      'to off for no metrics',
    ]);
  });
});

describe('ports 0', { timeout: 120_000 }, () => {
  let dataset: TempDataset;
  let server: RunningCommand;

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 32, 32] });
    server = spawnVoxelfeed(['serve', '--data', dataset.dir, '--port', '0', '--metrics-port', '0'], {
      env: cleanEnv(),
    });
  });

  after(async () => {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
    await server.exited;
    await dataset.cleanup();
  });

  it('print the ports actually bound: gRPC answers on one, /metrics on the other', async () => {
    const grpc = await server.waitForStdout(/^listening on 127\.0\.0\.1:(\d+)$/m, EXIT_MS);
    const metrics = await server.waitForStdout(
      /^metrics on (http:\/\/127\.0\.0\.1:(\d+)\/metrics)$/m,
      EXIT_MS,
    );
    assert.notEqual(grpc[1], '0');
    assert.notEqual(metrics[2], '0');
    assert.equal(await healthStatus(`127.0.0.1:${grpc[1]}`), 'SERVING');
    const response = await fetch(metrics[1]!);
    assert.equal(response.status, 200);
    assert.match(await response.text(), /^voxelfeed_/m);
  });
});
