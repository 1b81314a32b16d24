import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ClientReadableStream, credentials } from '@grpc/grpc-js';
import { type Batch, SamplingOptions, VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import type { StreamObserver } from '../../server/batches/stream-observer.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { baseStreamRequest, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { LARGE_MESSAGES, startTestServer, type TestServer } from '../support/test-server.js';

interface Held {
  /** Batches the stream holds now: being prepared, ready, or not yet flushed. */
  readonly now: number;
  readonly peak: number;
  /** Batches it has started to prepare. */
  readonly prepared: number;
}

/** Per stream (by its server-side id, in order of first sight): the batches it holds, at most, and in all. */
class HeldBatches implements StreamObserver {
  readonly streams = new Map<string, Held>();
  ends = 0;
  onBatchesHeld(stream: string, held: number): void {
    const seen = this.streams.get(stream) ?? { now: 0, peak: 0, prepared: 0 };
    this.streams.set(stream, {
      now: held,
      peak: Math.max(seen.peak, held),
      prepared: seen.prepared + (held > seen.now ? 1 : 0),
    });
  }
  onStreamEnd(): void {
    this.ends += 1;
  }
  /** The first stream that prepared a batch. */
  first(): (Held & { id: string }) | undefined {
    const [entry] = this.streams;
    return entry === undefined ? undefined : { id: entry[0], ...entry[1] };
  }
}

const SAMPLING = SamplingOptions.fromPartial({ samplesPerNodule: 1 });

/** 8 crops of 16x64x64 with masks: 1 MiB per batch, 500 batches in the epoch; far more than any buffer takes. */
const SLOW_REQUEST = {
  seed: 2n,
  batchSize: 8,
  cropSize: [16, 64, 64],
  includeMask: true,
  sampling: { ...SAMPLING, negativesPerEpoch: 4000 },
};

/** A whole epoch of 96 negatives (and the nodules) over 3 ranks in batches of 4. */
const WORLD = 3;
const FAST_EPOCH = {
  seed: 3n,
  batchSize: 4,
  cropSize: [8, 16, 16],
  worldSize: WORLD,
  sampling: { ...SAMPLING, negativesPerEpoch: 96 },
};

const BOUND = DEFAULT_SERVICE_LIMITS.prefetchBatches + DEFAULT_SERVICE_LIMITS.maxUnflushedBatches;

describe('a client that stops reading', { timeout: 30_000 }, () => {
  let dataset: TempDataset;
  let server: TestServer;
  let slowClient: VoxelFeedClient;
  const held = new HeldBatches();

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 13n });
    server = await startTestServer({ data: dataset.dir, hooks: { observer: held } });
    // Its own connection, as a trainer process on another host would have.
    slowClient = new VoxelFeedClient(server.address, credentials.createInsecure(), {
      ...LARGE_MESSAGES,
      'grpc.use_local_subchannel_pool': 1,
    });
  });

  after(async () => {
    slowClient?.close();
    await server?.close();
    await dataset?.cleanup();
  });

  it('makes the server hold at most its bounded queue of batches, while other streams finish their epoch', async () => {
    const slow: ClientReadableStream<Batch> = slowClient.streamBatches(baseStreamRequest(SLOW_REQUEST));
    // Read one batch, then never again. (grpc-js stops reading the HTTP/2 stream only once the call has
    // delivered a message: a call paused before its first one takes in every message the server sends.)
    slow.once('data', () => slow.pause());
    let slowOutcome = 'open';
    slow.on('error', (error) => {
      slowOutcome = `error ${error.message}`;
    });
    slow.on('end', () => {
      slowOutcome = 'end';
    });
    // Once its client's buffers are full, the stream's queue fills up to the bound and stays there.
    const stalled = await pollUntil(async () => (held.first()?.now === BOUND ? held.first() : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      describe: () => `the paused stream to hold ${BOUND} batches (now ${JSON.stringify(held.first())})`,
    });

    const ranks = await Promise.all(
      Array.from({ length: WORLD }, (_, rank) => streamAll(server.client, { ...FAST_EPOCH, rank })),
    );
    // 96 negatives plus the nodules, over 3 ranks of 4: at least 8 steps, the same for every rank.
    const steps = Number(ranks[0]![0]?.stepsInEpoch ?? 0n);
    assert.ok(steps >= 8, `the epoch has ${steps} steps`);
    for (const [rank, batches] of ranks.entries()) {
      assert.deepEqual(
        batches.map((batch) => [Number(batch.step), batch.rank]),
        Array.from({ length: steps }, (_, step) => [step, rank]),
        `rank ${rank} received every step of its epoch, in order`,
      );
    }
    assert.equal(held.ends, WORLD, 'only the other streams have ended');
    assert.equal(slowOutcome, 'open', 'the paused stream is still open');
    assert.equal(held.streams.size, WORLD + 1);

    const slowHeld = held.streams.get(stalled.id)!;
    assert.ok(
      slowHeld.peak <= BOUND,
      `the paused stream held ${slowHeld.peak} batches; the bound is ${BOUND}`,
    );
    // The client took in 17 (one delivered, 16 buffered by its paused stream), the server holds its bound: the
    // stream stalled at a small fraction of its 500 batches instead of running on.
    assert.ok(slowHeld.prepared < 50, `the paused stream prepared ${slowHeld.prepared} batches`);
    for (const [id, { peak }] of held.streams) {
      assert.ok(peak <= BOUND, `stream ${id} held ${peak} batches; the bound is ${BOUND}`);
    }

    slow.cancel();
    await pollUntil(async () => (held.ends === WORLD + 1 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 20,
      describe: () => `the paused stream to end on the server (${held.ends} ended)`,
    });
  });
});
