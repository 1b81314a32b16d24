import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientReadableStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import { type Batch, VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { SHUTTING_DOWN_MESSAGE } from '../../server/service/handle-stream-batches.js';
import { baseStreamRequest, longEpoch } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { type ServerProcess, spawnServer } from '../support/spawn-server.js';
import { LARGE_MESSAGES } from '../support/test-server.js';

/** More concurrent streams than Node's default of 10 listeners per emitter or event target. */
const STREAMS = 20;
const FIRST_BATCH_TIMEOUT_MS = 60_000;

/** Resolves once every stream has sent a batch; rejects on the first stream error or after `timeoutMs`. */
function firstBatches(calls: readonly ClientReadableStream<Batch>[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiting = calls.length;
    const timer = setTimeout(
      () => reject(new Error(`${waiting} streams sent no batch in ${timeoutMs} ms`)),
      timeoutMs,
    );
    for (const call of calls) {
      call.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      call.once('data', () => {
        waiting -= 1;
        if (waiting === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

describe('a server with many concurrent streams', () => {
  let dataset: TempDataset;
  const servers: ServerProcess[] = [];
  const clients: VoxelFeedClient[] = [];

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 5n });
  });

  after(async () => {
    for (const client of clients) client.close();
    for (const server of servers) await server.stop('SIGKILL');
    await dataset?.cleanup();
  });

  /** A served process and `STREAMS` streams that have each sent a batch, then paused so that they stay open. */
  async function openStreams(graceMs: number) {
    const server = await spawnServer(['--data', dataset.dir, '--shutdown-grace-ms', String(graceMs)]);
    servers.push(server);
    const client = new VoxelFeedClient(server.address, credentials.createInsecure(), LARGE_MESSAGES);
    clients.push(client);
    const calls = Array.from({ length: STREAMS }, (_, i) =>
      client.streamBatches(baseStreamRequest({ ...longEpoch(), seed: BigInt(i + 1) })),
    );
    const ends = calls.map(
      (call) =>
        new Promise<string>((resolve) => {
          call.on('error', (error: ServiceError) => resolve(`${status[error.code]}: ${error.details}`));
          call.on('end', () => resolve('OK'));
        }),
    );
    await firstBatches(calls, FIRST_BATCH_TIMEOUT_MS);
    for (const call of calls) call.pause();
    return { server, calls, ends };
  }

  it(`writes only JSON log lines to stderr with ${STREAMS} streams open, then cancelled (no MaxListenersExceededWarning)`, async () => {
    const { server, calls, ends } = await openStreams(0);
    for (const call of calls) call.cancel();
    assert.deepEqual(new Set(await Promise.all(ends)), new Set(['CANCELLED: Cancelled on client']));
    // The server logs "stream ended" once a stream's handler is done, after it removed what it had added.
    await pollUntil(async () => (countEnded(server.stderr()) === STREAMS ? true : undefined), {
      timeoutMs: FIRST_BATCH_TIMEOUT_MS,
      intervalMs: 50,
      describe: () => `${STREAMS} "stream ended" lines, got ${countEnded(server.stderr())}`,
    });
    assert.deepEqual(nonJsonLines(server.stderr()), []);
  });

  it(`moves all ${STREAMS} open streams to another replica, warning-free, even with no shutdown grace`, async () => {
    const { server, ends } = await openStreams(0);
    assert.equal(await server.stop('SIGTERM'), 0);
    assert.deepEqual(new Set(await Promise.all(ends)), new Set([`UNAVAILABLE: ${SHUTTING_DOWN_MESSAGE}`]));
    assert.equal(countEnded(server.stderr()), STREAMS, server.stderr().slice(-2000));
    assert.deepEqual(nonJsonLines(server.stderr()), []);
  });
});

function countEnded(stderr: string): number {
  return stderr.split('\n').filter((line) => line.includes('"stream ended')).length;
}

/** Whatever the server wrote to stderr that is not a JSON log line (a Node warning, a stack trace). */
function nonJsonLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !isJsonObject(line));
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
