import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFeedClient, type FeedClient } from '../../client/create-feed-client.js';
import type { FeedBatch } from '../../client/feed-batch.js';
import { FeedError } from '../../client/feed-error.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { DType } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { assertSameBatch, tensorBytes } from '../support/feed-batch-reference.js';
import { getDatasetInfo, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { RecordingObserver } from '../support/stream-observer.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

async function collect(batches: AsyncIterable<FeedBatch>): Promise<FeedBatch[]> {
  const all: FeedBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

function isFeedError(code: string, ...fragments: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof FeedError, `expected a FeedError, got ${error}`);
    assert.equal(error.code, code, error.message);
    for (const fragment of fragments)
      assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
    return true;
  };
}

const CROP = [8, 16, 16] as const;
/** An epoch of about a thousand steps, for tests that stop early. */
const LONG: StreamBatchesInput = {
  seed: 1,
  batchSize: 2,
  cropSize: CROP,
  sampling: { negativesPerEpoch: 2000 },
};

describe('createFeedClient against a real server', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let client: FeedClient;
  const events = new RecordingObserver();

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 7n });
    server = await startTestServer({ data: dataset.dir, hooks: { observer: events } });
    client = createFeedClient({ address: server.address, prefetch: 3, token: 'secret' });
  });

  after(async () => {
    client?.close();
    await server?.close();
    await dataset?.cleanup();
  });

  for (const dtype of ['uint8', 'float32'] as const) {
    for (const includeMask of [true, false]) {
      it(`streams the batches the generated client gets, as ${dtype} views${includeMask ? ' with masks' : ''}`, async () => {
        const input = { seed: 5, epoch: 1, batchSize: 3, cropSize: CROP, dtype, includeMask };
        const ours = await collect(client.streamBatches(input));
        const reference = await streamAll(server.client, {
          seed: 5n,
          epoch: 1,
          batchSize: 3,
          cropSize: [...CROP],
          dtype: dtype === 'float32' ? DType.DTYPE_FLOAT32 : DType.DTYPE_UINT8,
          includeMask,
        });
        assert.ok(reference.length >= 2, `the fixture gives ${reference.length} steps`);
        assert.equal(ours.length, reference.length);
        for (const [step, batch] of ours.entries()) assertSameBatch(batch, reference[step]!, `step ${step}`);
        const first = ours[0]!;
        const voxels = Uint8Array.from(reference[0]!.image);
        if (dtype === 'float32') {
          // Values, not only bytes: voxel / 255 as the uint8 stream of the same request says.
          const bytes = await collect(client.streamBatches({ ...input, dtype: 'uint8', maxSteps: 1 }));
          const stored = bytes[0]!.image;
          assert.equal(first.image.length, stored.length);
          for (let i = 0; i < stored.length; i++) assert.equal(first.image[i], Math.fround(stored[i]! / 255));
        } else {
          assert.deepEqual(Uint8Array.from(first.image), voxels);
        }
      });
    }
  }

  it('answers getSample with the bytes and info of the same sample in a stream', async () => {
    const input = { seed: 8, epoch: 2, batchSize: 3, cropSize: CROP, includeMask: true, maxSteps: 2 };
    const [, second] = await collect(client.streamBatches(input));
    const voxels = CROP[0] * CROP[1] * CROP[2];
    for (const slot of [0, 2]) {
      const info = second!.samples[slot]!;
      const single = await client.getSample({
        seed: 8,
        epoch: 2,
        cropSize: CROP,
        includeMask: true,
        index: info.index,
      });
      assert.deepEqual(single.shape, [1, ...CROP]);
      assert.deepEqual(single.samples, [info]);
      assert.ok(
        tensorBytes(single.image).equals(
          tensorBytes(second!.image.subarray(slot * voxels, (slot + 1) * voxels)),
        ),
      );
      assert.ok(
        tensorBytes(single.mask!).equals(
          tensorBytes(second!.mask!.subarray(slot * voxels, (slot + 1) * voxels)),
        ),
      );
    }
  });

  it('describes the data set as GetDatasetInfo does, with numbers for 64-bit counts', async () => {
    const info = await client.datasetInfo();
    const reference = await getDatasetInfo(server.client);
    assert.equal(info.series, dataset.series);
    assert.equal(info.nodules, dataset.nodules);
    assert.equal(info.fingerprint, reference.fingerprint);
    assert.equal(info.maxCropVoxels, Number(reference.maxCropVoxels));
    assert.equal(info.defaultItemsPerEpoch, Number(reference.defaultItemsPerEpoch));
    assert.deepEqual(info.seriesInfo, reference.seriesInfo);
  });

  it('reports trainer stats that the server keeps, and refuses a rank outside the world with INVALID_ARGUMENT', async () => {
    await client.reportTrainerStats({
      job: 'feed-client-test',
      rank: 1,
      worldSize: 2,
      step: 42,
      samples: 84,
      gpuIdleSeconds: 1.5,
    });
    const stored = server.running.trainerStats
      .current()
      .find((report) => report.stats.job === 'feed-client-test');
    assert.ok(stored, 'the server stored the report');
    assert.equal(stored.stats.rank, 1);
    assert.equal(stored.stats.step, 42n);
    assert.equal(stored.stats.samples, 84n);
    assert.equal(stored.stats.gpuIdleSeconds, 1.5);
    await assert.rejects(
      client.reportTrainerStats({ job: 'feed-client-test', rank: 2, worldSize: 2, step: 1 }),
      isFeedError('INVALID_ARGUMENT', 'rank is 2', server.address, 'ReportTrainerStats'),
    );
  });

  it('throws a FeedError with the server details for a refused stream request', async () => {
    await assert.rejects(
      collect(client.streamBatches({ batchSize: 0, cropSize: CROP })),
      isFeedError('INVALID_ARGUMENT', 'batch_size is 0', server.address),
    );
    await assert.rejects(
      collect(client.streamBatches({ dataset: 'luna99', batchSize: 1, cropSize: CROP })),
      isFeedError('NOT_FOUND', 'luna99'),
    );
    await assert.rejects(
      collect(client.streamBatches({ batchSize: 1, cropSize: CROP, startStep: 1_000_000 })),
      isFeedError('OUT_OF_RANGE', 'start_step is 1000000'),
    );
  });

  it('refuses request fields that cannot be encoded before calling', () => {
    assert.throws(
      () => client.streamBatches({ batchSize: 1.5, cropSize: CROP, startStep: -1 }),
      isFeedError('INVALID_ARGUMENT', 'batchSize is 1.5', 'startStep is -1'),
    );
  });

  it('cancels the call when the consumer breaks out of for await', { timeout: 10_000 }, async () => {
    const ended = events.nextEnd();
    let received = 0;
    for await (const batch of client.streamBatches(LONG)) {
      assert.equal(batch.step, received);
      received += 1;
      if (received === 3) break;
    }
    assert.equal(await ended, 'CANCELLED');
  });

  it('stops iterating with the AbortError of the signal, and cancels the call', {
    timeout: 10_000,
  }, async () => {
    const ended = events.nextEnd();
    const controller = new AbortController();
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const _ of client.streamBatches(LONG, { signal: controller.signal })) {
          received += 1;
          if (received === 2) controller.abort();
        }
      })(),
      (error: Error) => error.name === 'AbortError',
    );
    assert.equal(received, 2);
    assert.equal(await ended, 'CANCELLED');
    const already = AbortSignal.abort(new Error('no epoch today'));
    await assert.rejects(collect(client.streamBatches(LONG, { signal: already })), /no epoch today/);
  });

  it('ends an open stream with FeedError CANCELLED when the client closes', { timeout: 10_000 }, async () => {
    const own = createFeedClient({ address: server.address });
    const ended = events.nextEnd();
    const batches = own.streamBatches(LONG)[Symbol.asyncIterator]();
    assert.equal((await batches.next()).value?.step, 0);
    own.close();
    await assert.rejects(batches.next(), isFeedError('CANCELLED', 'closed'));
    assert.equal(await ended, 'CANCELLED');
    await assert.rejects(own.datasetInfo(), isFeedError('CANCELLED', 'closed'));
    assert.throws(() => own.streamBatches(LONG), isFeedError('CANCELLED', 'closed'));
  });

  it('holds at most prefetch batches while the consumer is slow, and fills up while it computes', {
    timeout: 10_000,
  }, async () => {
    const prefetch = 3;
    const steps = 30;
    let depth = 0;
    let deepest = 0;
    let onFull: (() => void) | null = null;
    const stream = client.streamBatches(
      { ...LONG, maxSteps: steps },
      {
        onQueueDepth: (now) => {
          depth = now;
          deepest = Math.max(deepest, now);
          if (now === prefetch) onFull?.();
        },
      },
    );
    const seen: number[] = [];
    for await (const batch of stream) {
      seen.push(batch.step);
      if (seen.length > 5) continue;
      // A slow trainer for 5 steps: the queue fills while it computes; then, with the stream paused, the
      // server goes on sending 4 more batches (into grpc-js's and HTTP/2's buffers), and none of them may
      // reach the queue.
      if (depth < prefetch) await new Promise<void>((resolve) => (onFull = resolve));
      await events.batchesReached(events.batches + 4);
      assert.equal(depth, prefetch, `after step ${batch.step}`);
    }
    assert.deepEqual(
      seen,
      Array.from({ length: steps }, (_, step) => step),
    );
    assert.equal(deepest, prefetch);
  });
});

describe('createFeedClient with several replicas', () => {
  let dataset: TempDataset;
  const servers: TestServer[] = [];
  const events = [new RecordingObserver(), new RecordingObserver()];

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 3n });
    for (const observer of events)
      servers.push(await startTestServer({ data: dataset.dir, hooks: { observer } }));
  });

  after(async () => {
    for (const server of servers) await server.close();
    await dataset?.cleanup();
  });

  const request = { seed: 2, batchSize: 2, cropSize: CROP, maxSteps: 2 };

  it('spreads streams round robin over IP addresses, with the same batches from each replica', async () => {
    const client = createFeedClient({ addresses: servers.map((server) => server.address) });
    try {
      const startsBefore = events.map((observer) => observer.starts);
      const runs: FeedBatch[][] = [];
      for (let i = 0; i < 8; i++) runs.push(await collect(client.streamBatches(request)));
      const per = events.map((observer, i) => observer.starts - startsBefore[i]!);
      assert.equal(per[0]! + per[1]!, 8);
      assert.ok(per[0]! > 0 && per[1]! > 0, `streams per replica: ${per}`);
      for (const run of runs.slice(1)) {
        assert.equal(run.length, runs[0]!.length);
        for (const [step, batch] of run.entries()) {
          assert.ok(tensorBytes(batch.image).equals(tensorBytes(runs[0]![step]!.image)), `step ${step}`);
        }
      }
    } finally {
      client.close();
    }
  });

  it('rotates calls over host names, one channel each', async () => {
    const client = createFeedClient({
      addresses: servers.map((server) => server.address.replace('127.0.0.1', 'localhost')),
    });
    try {
      const startsBefore = events.map((observer) => observer.starts);
      for (let i = 0; i < 4; i++) await collect(client.streamBatches(request));
      assert.deepEqual(
        events.map((observer, i) => observer.starts - startsBefore[i]!),
        [2, 2],
      );
    } finally {
      client.close();
    }
  });
});

describe('createFeedClient options', () => {
  const refused: Array<[string, Parameters<typeof createFeedClient>[0], string[]]> = [
    ['no address', {}, ['no server address']],
    ['both address and addresses', { address: 'a:1', addresses: ['b:2'] }, ['both address and addresses']],
    ['a prefetch of 0', { address: 'a:1', prefetch: 0 }, ['prefetch is 0', '1 to 64']],
    ['a prefetch of 65', { address: 'a:1', prefetch: 65 }, ['prefetch is 65']],
    [
      'a max backoff below the initial one',
      { address: 'a:1', reconnect: { initialBackoffMs: 500, maxBackoffMs: 100 } },
      ['reconnect.maxBackoffMs (100)'],
    ],
    ['zero attempts', { address: 'a:1', reconnect: { maxAttempts: 0 } }, ['reconnect.maxAttempts is 0']],
    ['a cert without a key', { address: 'a:1', tls: { cert: Buffer.from('x') } }, ['cert without a key']],
    ['addresses joined by a comma', { addresses: ['a:1,b:2'] }, ['list each replica separately']],
    ['a port over 65535', { address: '127.0.0.1:99999' }, ['127.0.0.1:99999', 'port 99999 is out of range']],
    ['an address without a port', { addresses: ['a:1', 'b'] }, ['"b"', 'expected HOST:PORT']],
    ['an IPv6 address without brackets', { address: '::1:50051' }, ['put an IPv6 address in brackets']],
  ];
  for (const [name, options, fragments] of refused) {
    it(`refuses ${name} with INVALID_ARGUMENT`, () => {
      assert.throws(() => createFeedClient(options), isFeedError('INVALID_ARGUMENT', ...fragments));
    });
  }

  it('reports every problem at once', () => {
    assert.throws(
      () => createFeedClient({ prefetch: 0, reconnect: { maxAttempts: 0 } }),
      isFeedError('INVALID_ARGUMENT', 'no server address', 'prefetch is 0', 'maxAttempts is 0'),
    );
  });
});
