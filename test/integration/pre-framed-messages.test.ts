import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { getDatasetInfo, getSample, longEpoch, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** grpc-js's call that frames each message it sends into a copy (`serializeMessage`). */
interface FramingCall {
  serializeMessage(this: unknown, value: unknown): Buffer;
}
const grpcInternals = createRequire(import.meta.url)('@grpc/grpc-js/build/src/server-interceptors.js') as {
  BaseServerInterceptingCall: { prototype: FramingCall };
};

/** One crop of 16x32x32 with its mask: 32 KiB of tensors. */
const CROP = [16, 32, 32];
const SAMPLE_BYTES = 2 * 16 * 32 * 32;

/**
 * Runs `call` while counting the messages that grpc-js frames into a copy of its own: `copies` of more than
 * `minBytes`, and `framed` of any size (small answers such as GetDatasetInfo's take that way: they show that
 * the count sees this server's calls at all).
 */
async function countFraming<T>(minBytes: number, call: () => Promise<T>) {
  const prototype = grpcInternals.BaseServerInterceptingCall.prototype;
  const original = prototype.serializeMessage;
  assert.equal(typeof original, 'function', 'grpc-js no longer frames messages where this test looks');
  let copies = 0;
  let framed = 0;
  prototype.serializeMessage = function (this: unknown, value: unknown) {
    const output = original.call(this, value);
    framed += 1;
    if (output.length > minBytes) copies += 1;
    return output;
  };
  try {
    return { result: await call(), copies, framed };
  } finally {
    prototype.serializeMessage = original;
  }
}

describe('messages that carry tensors, sent as the server framed them', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 3, shape: [24, 40, 40], seed: 17n });
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('has GetSample answer from the sample’s own buffer, without framing a copy of it', async () => {
    const request = {
      cropSize: CROP,
      sampling: SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 12 }),
    };
    const { result, copies, framed } = await countFraming(SAMPLE_BYTES, async () => {
      const samples = await Promise.all(
        [0n, 5n, 11n].map((index) => getSample(server.client, { ...request, index })),
      );
      await getDatasetInfo(server.client);
      return samples;
    });
    assert.deepEqual(
      result.map((sample) => [sample.image.length, sample.mask.length, sample.samples.length]),
      Array.from({ length: 3 }, () => [SAMPLE_BYTES / 2, SAMPLE_BYTES / 2, 1]),
    );
    assert.equal(copies, 0, `grpc-js framed ${copies} samples into copies`);
    assert.equal(framed, 1, 'the count saw GetDatasetInfo’s answer framed by grpc-js, and nothing else');
  });

  it('answers GetSample with the same bytes as the stream’s slice for that sample', async () => {
    const sampling = SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 40 });
    const request = { seed: 3n, cropSize: CROP, sampling };
    const [batch] = await streamAll(server.client, { ...request, batchSize: 2, maxSteps: 1n });
    const sample = await getSample(server.client, { ...request, index: 1n });
    const half = SAMPLE_BYTES / 2;
    assert.deepEqual(sample.image, batch!.image.subarray(half, 2 * half));
    assert.deepEqual(sample.mask, batch!.mask.subarray(half, 2 * half));
  });

  it('has StreamBatches send every batch from its own buffer too', async () => {
    const { result, copies, framed } = await countFraming(SAMPLE_BYTES, async () => {
      const batches = await streamAll(server.client, { ...longEpoch(CROP), batchSize: 2, maxSteps: 3n });
      await getDatasetInfo(server.client);
      return batches;
    });
    assert.equal(result.length, 3);
    assert.equal(copies, 0, `grpc-js framed ${copies} batches into copies`);
    assert.equal(framed, 1);
  });
});
