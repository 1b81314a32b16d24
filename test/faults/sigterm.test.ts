import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ClientReadableStream } from '@grpc/grpc-js';
import type { RetryEvent } from '../../client/batch-stream.js';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { freeLoopbackPort } from '../../common/free-loopback-port.js';
import { SHUTTING_DOWN_MESSAGE } from '../../server/service/handle-stream-batches.js';
import { deferred, queueDepthWatcher } from '../support/deferred.js';
import { batchFingerprint, referenceFingerprints } from '../support/feed-batch-reference.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { logLines, type ServerProcess, spawnServer } from '../support/spawn-server.js';
import { healthClient } from '../support/standard-services.js';

const GRACE_MS = 2500;
const STEPS = 40;
const PREFETCH = 2;
/**
 * The short stream that must finish within the grace period. Longer than what grpc-js buffers for a paused
 * client (16 messages, plus the window and the prefetch queue), so the server is still sending it at SIGTERM.
 */
const SHORT_STEPS = 30;
/** Consumed before SIGTERM by the short and the long stream. */
const SHORT_READ = 2;
const LONG_READ = 5;

/** A grpc.health.v1 Watch of the whole server, as a Kubernetes-style client without voxelfeed's .proto sees it. */
function watchHealth(address: string): { statuses: string[]; changed: () => Promise<void>; close(): void } {
  const client = healthClient(address);
  const statuses: string[] = [];
  let waiter: (() => void) | null = null;
  const call = client['Watch']!({ service: '' }) as ClientReadableStream<{ status: string }>;
  call.on('data', (reply: { status: string }) => {
    statuses.push(reply.status);
    waiter?.();
  });
  call.on('error', () => {}); // cancelled when the server goes away
  return {
    statuses,
    changed: () => new Promise<void>((resolve) => (waiter = resolve)),
    close: () => {
      call.cancel();
      client.close();
    },
  };
}

describe('SIGTERM with open streams', () => {
  let dataset: TempDataset;
  let request: StreamBatchesInput;
  const servers: ServerProcess[] = [];

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 29n });
    request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 8, epoch: 1 });
  });

  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    await dataset?.cleanup();
  });

  it('turns NOT_SERVING at once, lets streams finish for the grace period, then moves the rest to another replica and exits', {
    timeout: 60_000,
  }, async (t) => {
    const serve = (port: number) =>
      spawnServer([
        '--data',
        dataset.dir,
        '--log-level',
        'info',
        '--shutdown-grace-ms',
        String(GRACE_MS),
        '--port',
        String(port),
      ]);
    const a = await serve(0);
    servers.push(a);
    const bPort = await freeLoopbackPort();
    const bAddress = `127.0.0.1:${bPort}`;

    const reference = await referenceFingerprints(a.address, request);
    assert.equal(reference.length, STEPS);

    const health = watchHealth(a.address);
    if (health.statuses.length === 0) await health.changed();
    assert.deepEqual(health.statuses, ['SERVING']);

    // Two trainers on A, each reading a few batches and then waiting: one with A alone and a short stream, one
    // given both replicas (B is not up yet, so its stream starts on A) with the whole epoch.
    const options = {
      prefetch: PREFETCH,
      reconnect: { initialBackoffMs: 20, maxBackoffMs: 250, maxAttempts: 100 },
      // grpc-js's default 64 KiB window: the long stream cannot be sent ahead into the client's buffers.
      channelOptions: { 'grpc-node.flow_control_window': 65_535 },
    };
    const shortClient = createFeedClient({ address: a.address, ...options });
    const longClient = createFeedClient({ addresses: [a.address, bAddress], ...options });
    const waiting = { short: deferred(), long: deferred() };
    const go = { short: deferred(), long: deferred() };
    const retries: { short: RetryEvent[]; long: RetryEvent[] } = { short: [], long: [] };
    const read = async (
      name: 'short' | 'long',
      client: typeof shortClient,
      input: StreamBatchesInput,
      pauseAt: number,
    ) => {
      const seen: string[] = [];
      const queue = queueDepthWatcher(PREFETCH);
      const streamOptions = {
        onRetry: (event: RetryEvent) => retries[name].push(event),
        onQueueDepth: queue.onQueueDepth,
      };
      try {
        for await (const batch of client.streamBatches(input, streamOptions)) {
          seen.push(batchFingerprint(batch));
          if (seen.length === pauseAt) {
            void queue.full().then(waiting[name].resolve);
            await go[name].promise;
          }
        }
      } finally {
        client.close();
      }
      return seen;
    };
    const short = read('short', shortClient, { ...request, maxSteps: SHORT_STEPS }, SHORT_READ);
    const long = read('long', longClient, request, LONG_READ);
    await Promise.all([waiting.short.promise, waiting.long.promise]);
    servers.push(await serve(bPort));

    const sigtermWallMs = Date.now();
    const sigterm = performance.now();
    const exited = a.stop('SIGTERM');
    await health.changed();
    const notServingMs = performance.now() - sigterm;
    assert.deepEqual(health.statuses, ['SERVING', 'NOT_SERVING']);

    // Within the grace period an open stream runs to its end on A.
    go.short.resolve();
    assert.deepEqual(await short, reference.slice(0, SHORT_STEPS));
    assert.deepEqual(retries.short, []);
    const shortDoneMs = performance.now() - sigterm;
    const shortEnd = await pollUntil(
      async () => logLines(a, 'stream ended: OK').find((line) => line['batches'] === SHORT_STEPS),
      { timeoutMs: 5000, intervalMs: 20, describe: () => `A to log the short stream's end:\n${a.stderr()}` },
    );
    assert.ok(Number(shortEnd['time']) >= sigtermWallMs, 'the short stream was still open at SIGTERM');
    assert.deepEqual(logLines(a, 'stream ended: UNAVAILABLE'), [], 'the grace period was not over yet');

    // After it, the stream still open is ended with UNAVAILABLE; its status waits behind the batches already
    // sent, so the trainer reads on as soon as the server says it ended the stream.
    const ended = await pollUntil(
      async () => {
        const lines = logLines(a, 'stream ended: UNAVAILABLE');
        return lines.length > 0 ? lines : undefined;
      },
      {
        timeoutMs: GRACE_MS + 5000,
        intervalMs: 20,
        describe: () => `A to end the long stream:\n${a.stderr()}`,
      },
    );
    const endedMs = performance.now() - sigterm;
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!['reason'], SHUTTING_DOWN_MESSAGE);
    go.long.resolve();
    const seen = await long;
    const code = await exited;
    const exitMs = performance.now() - sigterm;

    assert.deepEqual(seen, reference, 'every step once, in order, byte-identical');
    const first = retries.long[0];
    assert.ok(first !== undefined, 'the long stream was resumed');
    assert.equal(first.error.code, 'UNAVAILABLE');
    assert.equal(first.error.details, SHUTTING_DOWN_MESSAGE);
    const b = servers[1]!;
    await pollUntil(
      async () =>
        logLines(b, 'stream ended: OK').find((line) => line['startStep'] === String(first.resumeAtStep)),
      {
        timeoutMs: 5000,
        intervalMs: 20,
        describe: () => `B to log the rest from step ${first.resumeAtStep}:\n${b.stderr()}`,
      },
    );

    assert.ok(notServingMs < GRACE_MS, `NOT_SERVING ${notServingMs.toFixed(0)} ms after SIGTERM`);
    assert.ok(endedMs >= GRACE_MS - 50, `the long stream ended ${endedMs.toFixed(0)} ms after SIGTERM`);
    assert.equal(code, 0);
    assert.ok(exitMs < GRACE_MS + 5000, `exited ${exitMs.toFixed(0)} ms after SIGTERM`);
    health.close();
    t.diagnostic(
      `NOT_SERVING after ${notServingMs.toFixed(0)} ms, short stream done after ${shortDoneMs.toFixed(0)} ms, long stream ended after ${endedMs.toFixed(0)} ms, exit after ${exitMs.toFixed(0)} ms; resumed on B at step ${first.resumeAtStep}`,
    );
  });
});
