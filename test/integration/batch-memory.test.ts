import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { getSample, sampleSlice, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';

/** grpc-js's call that frames each message it sends into a copy (`serializeMessage`). */
interface FramingCall {
  serializeMessage(this: unknown, value: unknown): Buffer;
}
const grpcInternals = createRequire(import.meta.url)('@grpc/grpc-js/build/src/server-interceptors.js') as {
  BaseServerInterceptingCall: { prototype: FramingCall };
};

/** 8 crops 16x48x48 with masks: 295 KB per batch. */
const REQUEST = {
  seed: 5n,
  batchSize: 8,
  cropSize: [16, 48, 48],
  sampling: SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 96 }),
};
const BATCH_BYTES = 8 * 2 * 16 * 48 * 48;
const WORLD = 4;

describe('batch memory shared by all streams', () => {
  let dataset: TempDataset;
  let server: TestServer;
  /** Room for 2.5 batches, for 4 streams that would each hold up to 5. */
  const budgetBytes = Math.round(2.5 * BATCH_BYTES);

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 21n });
    server = await startTestServer({ data: dataset.dir, limits: { batchMemoryBytes: budgetBytes } });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('has gRPC send each batch from its own buffer, without framing a copy of it', async () => {
    const prototype = grpcInternals.BaseServerInterceptingCall.prototype;
    const original = prototype.serializeMessage;
    assert.equal(typeof original, 'function', 'grpc-js no longer frames messages where this test looks');
    let framedCopies = 0;
    prototype.serializeMessage = function (this: unknown, value: unknown) {
      const framed = original.call(this, value);
      if (framed.length > BATCH_BYTES) framedCopies += 1;
      return framed;
    };
    try {
      const batches = await streamAll(server.client, { ...REQUEST, maxSteps: 6n });
      assert.equal(batches.length, 6);
      assert.deepEqual(
        batches.map((batch) => [Number(batch.step), batch.image.length, batch.mask.length]),
        Array.from({ length: 6 }, (_, step) => [step, BATCH_BYTES / 2, BATCH_BYTES / 2]),
      );
      assert.equal(framedCopies, 0, `grpc-js framed ${framedCopies} batches into copies`);
    } finally {
      prototype.serializeMessage = original;
    }
  });

  it('keeps every batch byte-identical to GetSample while the streams wait for and reuse each other’s buffers', async () => {
    const ranks = await Promise.all(
      Array.from({ length: WORLD }, (_, rank) =>
        streamAll(server.client, { ...REQUEST, rank, worldSize: WORLD }),
      ),
    );
    const steps = ranks[0]!.length;
    assert.ok(steps >= 3, `${steps} steps per rank`);
    for (const [rank, batches] of ranks.entries()) {
      assert.deepEqual(
        batches.map((batch) => Number(batch.step)),
        Array.from({ length: steps }, (_, step) => step),
        `rank ${rank}`,
      );
      for (const batch of batches) {
        for (const [slot, info] of batch.samples.entries()) {
          // A fresh buffer per call: what the sample is when no buffer is ever reused.
          const alone = await getSample(server.client, {
            seed: REQUEST.seed,
            index: info.index,
            cropSize: REQUEST.cropSize,
            sampling: REQUEST.sampling,
          });
          const where = `rank ${rank} step ${batch.step} slot ${slot} (sample ${info.index})`;
          assert.ok(
            sampleSlice(batch, 'image', slot).equals(sampleSlice(alone, 'image', 0)),
            `image of ${where}`,
          );
          assert.ok(
            sampleSlice(batch, 'mask', slot).equals(sampleSlice(alone, 'mask', 0)),
            `mask of ${where}`,
          );
        }
      }
    }
    const page = await scrapeMetrics(server.running);
    assert.match(page, new RegExp(`^voxelfeed_batch_memory_capacity_bytes ${budgetBytes}$`, 'm'));
    const held = [...page.matchAll(/^voxelfeed_batch_memory_bytes\{state="\w+"\} (\d+)$/gm)].map((match) =>
      Number(match[1]),
    );
    assert.equal(held.length, 3, 'in_use, free and collecting');
    assert.ok(
      held.reduce((sum, bytes) => sum + bytes, 0) <= budgetBytes,
      `batch memory ${held.join(' + ')} > ${budgetBytes}`,
    );
  });
});
