import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { getSample } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';
import { type LogLine, recordingLogger } from './recording-logger.js';

const CLIENT = fileURLToPath(new URL('./hanging-stream-client.ts', import.meta.url));
const RECEIVED = 3;

/** Resolves once the child prints `line`; rejects with its stderr if it exits first or takes too long. */
async function waitForLine(child: ChildProcess, line: string, timeoutMs: number): Promise<void> {
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "${line}" within ${timeoutMs} ms:\n${stderr}`)),
      timeoutMs,
    );
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the client exited with ${code} before "${line}":\n${stderr}`));
    });
  });
}

describe('a client that vanishes mid-stream', () => {
  let dataset: TempDataset;
  let server: TestServer;
  const lines: LogLine[] = [];
  const ends: string[] = [];
  let started = 0;
  let batches = 0;
  let volumeRequests = 0;

  before(async () => {
    dataset = await createPhantomDataset({ series: 3, shape: [24, 48, 48], seed: 17n });
    server = await startTestServer({
      data: dataset.dir,
      cacheMaxBytes: 64 * 1024 * 1024,
      strict: true,
      config: { datasetName: 'phantom' },
      logger: recordingLogger(lines),
      hooks: {
        observer: {
          onStreamStart: () => started++,
          onStreamEnd: (code) => ends.push(code),
          onBatch: () => batches++,
        },
      },
    });
    // Every batch of one sample asks the cache for exactly one volume when it is prepared.
    const cache = server.running.registry.datasets.get('phantom')!.cache;
    const get = cache.get.bind(cache);
    cache.get = (key: number) => {
      volumeRequests++;
      return get(key);
    };
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('ends its stream with CANCELLED, prepares no more batches for it and counts it closed', {
    timeout: 30_000,
  }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLIENT, server.address, String(RECEIVED)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await waitForLine(child, `received ${RECEIVED}`, 20_000);
      assert.equal(started, 1);
      // While the client does not read, the server holds a bounded number of batches for it.
      const bound = () => batches + DEFAULT_SERVICE_LIMITS.prefetchBatches + 1;
      assert.ok(volumeRequests <= bound(), `${volumeRequests} batches prepared, ${batches} sent`);
      assert.deepEqual(ends, []);
    } finally {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    }

    await pollUntil(async () => (ends.length > 0 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      describe: () => `the server to end the stream (ends: ${JSON.stringify(ends)})`,
    });
    assert.deepEqual(ends, ['CANCELLED']);
    const requestsAtEnd = volumeRequests;
    const batchesAtEnd = batches;
    assert.ok(requestsAtEnd <= batchesAtEnd + DEFAULT_SERVICE_LIMITS.prefetchBatches + 1);

    // A call through the same server afterwards: a stream still being fed would have asked for more volumes
    // by the time it is answered. The sample needs exactly one.
    await getSample(server.client, { index: 5n, cropSize: [8, 16, 16] });
    assert.equal(volumeRequests, requestsAtEnd + 1, 'no volume was asked for the vanished stream');
    assert.equal(batches, batchesAtEnd, 'no batch was sent after the end');

    const ended = lines.filter((line) => line.message === 'stream ended: CANCELLED');
    assert.equal(ended.length, 1);
    // Counted when handed over: the batch whose write was waiting for the client when it vanished is not.
    const handedOver = Number(ended[0]!.fields['batches']);
    assert.ok(handedOver >= RECEIVED && handedOver <= batchesAtEnd, `${handedOver} of ${batchesAtEnd}`);
    assert.match(String(ended[0]!.fields['peer']), /^127\.0\.0\.1:\d+$/);

    const page = await scrapeMetrics(server.running);
    assert.match(page, /^voxelfeed_open_streams 0$/m);
    assert.match(
      page,
      /^grpc_server_handled_total\{grpc_type="server_stream",grpc_service="voxelfeed\.v1\.VoxelFeed",grpc_method="StreamBatches",grpc_code="Canceled"\} 1$/m,
    );
  });
});
