import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spawnVoxelfeed } from '../../bin/demo/spawn-command.js';
import { FeedError } from '../../client/index.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { isVoxelfeedError } from '../../common/voxelfeed-error.js';
import { feedFailure } from '../../trainer/feed-failure.js';

const EXIT_MS = 90_000;

/** What grpc-js reports for a channel that found no server listening (one round_robin layer per address). */
function refused(address: string): FeedError {
  const details = `round_robin: No connection established. Last error: No connection established. Last error: Error: connect ECONNREFUSED ${address}. Resolution note: `;
  return new FeedError(
    'UNAVAILABLE',
    details,
    `StreamBatches gave up on ${address} after 3 failed attempts in a row; last error UNAVAILABLE: ${details}`,
  );
}

describe('feedFailure', () => {
  it('turns a client that gave up reconnecting into "cannot reach the server" with the innermost reason', () => {
    const line = feedFailure(refused('127.0.0.1:50051'), ['127.0.0.1:50051'], 3);
    assert.ok(isVoxelfeedError(line));
    assert.equal(line.code, 'UNAVAILABLE');
    assert.match(
      line.message,
      /^cannot reach the server at 127\.0\.0\.1:50051 \(connect ECONNREFUSED 127\.0\.0\.1:50051\) after 3 attempts in a row; start voxelfeed serve there or point --server \(VOXELFEED_SERVER\) at a running one/,
    );
    assert.ok(line.message.includes('--reconnect-attempts (VOXELFEED_RECONNECT_ATTEMPTS)'));
  });

  it('names every replica when there are several', () => {
    const line = feedFailure(refused('10.0.0.2:50051'), ['10.0.0.1:50051', '10.0.0.2:50051'], 20);
    assert.match(
      line?.message ?? '',
      /^cannot reach any of the servers at 10\.0\.0\.1:50051, 10\.0\.0\.2:50051 \(/,
    );
  });

  it("keeps the server's answer for any other status, and its code where the CLI knows it", () => {
    const answer = new FeedError(
      'INVALID_ARGUMENT',
      'crop_size 1000x1000x1000 exceeds the limit',
      'StreamBatches on 127.0.0.1:50051 failed with INVALID_ARGUMENT: crop_size 1000x1000x1000 exceeds the limit',
    );
    const line = feedFailure(answer, ['127.0.0.1:50051'], 20);
    assert.equal(line?.code, 'INVALID_ARGUMENT');
    assert.equal(line?.message, answer.message);
    const refusedToken = new FeedError(
      'UNAUTHENTICATED',
      'no token',
      'StreamBatches failed with UNAUTHENTICATED',
    );
    assert.equal(feedFailure(refusedToken, ['127.0.0.1:50051'], 20)?.code, 'INTERNAL');
  });

  it('leaves any other error alone', () => {
    assert.equal(feedFailure(new Error('a bug'), ['127.0.0.1:50051'], 20), null);
  });
});

/** `voxelfeed train` against a port nothing listens on, giving up after two attempts (well under a second). */
async function trainAgainstClosedPort(extra: readonly string[]) {
  const port = await freeLoopbackPort();
  const trainer = spawnVoxelfeed(
    [
      'train',
      '--server',
      `127.0.0.1:${port}`,
      '--reconnect-attempts',
      '2',
      '--model',
      'tiny',
      // The backend whose emscripten module re-throws uncaught errors, which made Node print a 36 KB line.
      '--backend',
      'wasm',
      '--metrics-port',
      'off',
      '--steps',
      '1',
      ...extra,
    ],
    { env: { VOXELFEED_LOG_LEVEL: undefined, VOXELFEED_RECONNECT_ATTEMPTS: undefined } },
  );
  const killer = setTimeout(() => trainer.child.kill('SIGKILL'), EXIT_MS);
  const code = await trainer.exited;
  clearTimeout(killer);
  const lines = trainer.stderr().split('\n');
  assert.equal(lines.pop(), '', 'stderr ends with a newline');
  return { port, code, lines, stdout: trainer.stdout() };
}

describe('voxelfeed train with no server', { timeout: 2 * EXIT_MS }, () => {
  it('exits 1 with "cannot reach the server" alone: no stack, no minified source line', async () => {
    const { port, code, lines, stdout } = await trainAgainstClosedPort([]);
    assert.equal(code, 1, lines.join('\n'));
    assert.equal(stdout, '');
    const last = lines.pop() ?? '';
    assert.match(
      last,
      new RegExp(
        `^voxelfeed train: cannot reach the server at 127\\.0\\.0\\.1:${port} \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\) after 2 attempts in a row; .*--server \\(VOXELFEED_SERVER\\)`,
      ),
    );
    // Everything before it is the log: JSON lines, none at debug level.
    for (const line of lines) {
      const entry = JSON.parse(line) as { level: string };
      assert.notEqual(entry.level, 'debug', line);
    }
  });

  it('logs the details (the whole cause chain and its stacks) at --log-level debug', async () => {
    const { code, lines } = await trainAgainstClosedPort(['--log-level', 'debug']);
    assert.equal(code, 1, lines.join('\n'));
    assert.match(lines.pop() ?? '', /^voxelfeed train: cannot reach the server at /);
    const debug = lines
      .map(
        (line) =>
          JSON.parse(line) as {
            level: string;
            error?: Array<{ name: string; stack?: string; details?: string }>;
          },
      )
      .find((entry) => entry.level === 'debug' && entry.error !== undefined);
    assert.ok(debug, lines.join('\n'));
    assert.equal(debug.error?.[0]?.name, 'FeedError');
    assert.ok(debug.error?.some((link) => link.details?.includes('ECONNREFUSED')));
    assert.ok(debug.error?.some((link) => link.stack?.includes('\n    at ')));
  });
});
