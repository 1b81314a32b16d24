import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createFeedClient } from '../../client/create-feed-client.js';
import { decodeBatch } from '../../client/decode-batch.js';
import type { FeedBatch } from '../../client/feed-batch.js';
import { decodeTileBatch, type FeedTileBatch } from '../../client/feed-tile-batch.js';
import { DType, GetSampleRequest, SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { baseStreamRequest } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { rawGrpcUnary } from '../support/raw-grpc-unary.js';
import { type ReceivedMessage, RecordingClient } from '../support/received-messages.js';
import { streamTilesRequest } from '../support/stream-tiles-request.js';
import { LARGE_MESSAGES, startTestServer, type TestServer } from '../support/test-server.js';
import { paddingTag, withoutPadding } from '../support/without-padding.js';

const BATCH_PADDING_FIELD = 12;
const BATCH_PADDING_TAG = paddingTag(BATCH_PADDING_FIELD);
const BATCH_IMAGE_TAG = (6 << 3) | 2;
const TILE_PADDING_TAG = paddingTag(14);
const SAMPLING = SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 6 });
/** What grpcio sends (Python client); the server must see no grpc-js in it. */
const GRPCIO_USER_AGENT = 'grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)';

/**
 * Image sizes whose field prefix (tag and length) is 2, 3, 4 and 5 bytes: with grpc-js's message at byte 5,
 * padding fields of 5, none, 3 and 2 bytes.
 */
const BATCH_CASES = [
  { name: '64 B (padding 5)', batchSize: 2, cropSize: [2, 2, 2] },
  { name: '8 KiB (no padding)', batchSize: 1, cropSize: [8, 16, 16] },
  { name: '32 KiB (padding 3)', batchSize: 4, cropSize: [8, 16, 16] },
  { name: '2.4 MB (padding 2)', batchSize: 4, cropSize: [16, 96, 96] },
] as const;

/** uint8 voxels as the server widens them to float32: v / 255. */
function widened(voxels: Uint8Array | Float32Array): Float32Array {
  return Float32Array.from(voxels, (v) => v / 255);
}

/** The decoded image is a Float32Array over the very buffer grpc-js handed over, 4-byte aligned. */
function assertViewOfReceived(message: ReceivedMessage<FeedBatch | FeedTileBatch>, what: string): void {
  const { bytes, decoded } = message;
  // grpc-js's landing, the premise of the padding: the message at byte 5 of its buffer (mod 4).
  assert.equal((bytes.byteOffset - 5) % 4, 0, `${what}: grpc-js put the message at byte ${bytes.byteOffset}`);
  assert.ok(decoded.image instanceof Float32Array, `${what}: a float32 image`);
  assert.equal(decoded.image.buffer, bytes.buffer, `${what}: the image is a view of the received buffer`);
  assert.equal(decoded.image.byteOffset % 4, 0);
}

describe('float32 images land aligned in the client', { timeout: 120_000 }, () => {
  let dataset: TempDataset;
  let server: TestServer;
  let client: RecordingClient;

  before(async () => {
    dataset = await createPhantomDataset({ series: 3, shape: [20, 40, 40], seed: 3n });
    server = await startTestServer({ data: dataset.dir });
    client = new RecordingClient(server.address, LARGE_MESSAGES);
  });
  after(async () => {
    client?.close();
    await server?.close();
    await dataset?.cleanup();
  });

  for (const { name, batchSize, cropSize } of BATCH_CASES) {
    it(`streams float32 batches of ${name} that grpc-js clients view in place, equal to uint8 / 255`, async () => {
      const request = (dtype: DType) =>
        baseStreamRequest({
          batchSize,
          cropSize: [...cropSize],
          sampling: SAMPLING,
          dtype,
          includeMask: true,
        });
      const floats = await client.stream('streamBatches', request(DType.DTYPE_FLOAT32), decodeBatch);
      const bytes = await client.stream('streamBatches', request(DType.DTYPE_UINT8), decodeBatch);
      assert.ok(floats.length >= 2 && floats.length === bytes.length, `${floats.length} batches`);
      for (const [step, message] of floats.entries()) {
        assertViewOfReceived(message, `step ${step}`);
        const reference = bytes[step]!.decoded;
        assert.deepEqual(message.decoded.image, widened(reference.image), `step ${step}: image`);
        assert.deepEqual(message.decoded.mask, reference.mask, `step ${step}: mask`);
        assert.deepEqual(message.decoded.samples, reference.samples, `step ${step}: samples`);
      }
      // uint8 messages carry no padding: the image field comes first, as before.
      for (const { bytes: raw } of bytes) assert.equal(raw[0], BATCH_IMAGE_TAG);
    });
  }

  it('moves a 2.4 MB image from byte 10 of the grpc-js buffer (misaligned) to byte 12 with an empty padding field', async () => {
    const request = baseStreamRequest({
      batchSize: 4,
      cropSize: [16, 96, 96],
      sampling: SAMPLING,
      dtype: DType.DTYPE_FLOAT32,
      maxSteps: 1n,
    });
    const [message] = await client.stream('streamBatches', request, decodeBatch);
    const { bytes, decoded } = message!;
    assert.deepEqual(
      [bytes[0], bytes[1]],
      [BATCH_PADDING_TAG, 0],
      'a padding field of no bytes: tag, length 0',
    );
    // The image field's tag and 4-byte length follow: 5 bytes, and the image 2 + 5 bytes into the message.
    assert.equal(decoded.image.byteOffset - bytes.byteOffset, 7);
  });

  it('streams float32 tiles that grpc-js clients view in place, equal to uint8 / 255', async () => {
    const request = (dtype: DType) => streamTilesRequest({ tileSize: [8, 16, 16], batchSize: 4, dtype });
    const floats = await client.stream('streamTiles', request(DType.DTYPE_FLOAT32), decodeTileBatch);
    const bytes = await client.stream('streamTiles', request(DType.DTYPE_UINT8), decodeTileBatch);
    assert.ok(floats.length >= 2 && floats.length === bytes.length, `${floats.length} tile batches`);
    assert.ok(
      floats.some(({ bytes: raw }) => raw[0] === TILE_PADDING_TAG),
      'at least one message needed a padding field',
    );
    for (const [at, message] of floats.entries()) {
      assertViewOfReceived(message, `tile batch ${at}`);
      const reference = bytes[at]!.decoded;
      assert.deepEqual(message.decoded.origins, reference.origins);
      assert.deepEqual(message.decoded.image, widened(reference.image), `tile batch ${at}: image`);
    }
  });

  it("answers GetSample with a float32 image that grpc-js clients view in place, equal to the stream's", async () => {
    const stream = await client.stream(
      'streamBatches',
      baseStreamRequest({
        batchSize: 4,
        cropSize: [8, 16, 16],
        sampling: SAMPLING,
        dtype: DType.DTYPE_FLOAT32,
      }),
      decodeBatch,
    );
    const first = stream[0]!.decoded;
    for (const [slot, info] of first.samples.entries()) {
      const request = GetSampleRequest.fromPartial({
        seed: 1n,
        index: BigInt(info.index),
        cropSize: [8, 16, 16],
        sampling: SAMPLING,
        dtype: DType.DTYPE_FLOAT32,
        includeMask: true,
      });
      const single = await client.unary('getSample', request, decodeBatch);
      assertViewOfReceived(single, `sample ${info.index}`);
      const voxels = 8 * 16 * 16;
      assert.deepEqual(single.decoded.image, first.image.subarray(slot * voxels, (slot + 1) * voxels));
    }
  });

  it('aligns for byte 0 where the user-agent is not grpc-js (grpcio), and for byte 5 where grpc-js adds its own', async () => {
    // 8 KiB: a 3-byte image prefix, so byte 0 and byte 5 need different padding (5 bytes and none).
    const request = (dtype: DType) =>
      GetSampleRequest.fromPartial({ seed: 1n, index: 0n, cropSize: [8, 16, 16], sampling: SAMPLING, dtype });
    const path = '/voxelfeed.v1.VoxelFeed/GetSample';
    const encode = (dtype: DType) => GetSampleRequest.encode(request(dtype)).finish();
    const atZero = await rawGrpcUnary(server.address, path, encode(DType.DTYPE_FLOAT32), GRPCIO_USER_AGENT);
    const decoded = decodeBatch(atZero);
    assert.equal(decoded.image.buffer, atZero.buffer, 'a view of the message at byte 0');
    assert.equal(atZero[0], BATCH_PADDING_TAG, 'padded for byte 0');

    // grpc-js puts its own user-agent after a primary one: still byte 5, whatever the primary says.
    const disguised = new RecordingClient(server.address, {
      ...LARGE_MESSAGES,
      'grpc.primary_user_agent': GRPCIO_USER_AGENT,
    });
    try {
      const atFive = await disguised.unary('getSample', request(DType.DTYPE_FLOAT32), decodeBatch);
      assertViewOfReceived(atFive, 'grpc-js with a primary user-agent');
      assert.equal(atFive.bytes[0], BATCH_IMAGE_TAG, 'no padding needed at byte 5');
      // Only the padding differs between the two libraries' messages.
      assert.deepEqual(withoutPadding(atZero, BATCH_PADDING_FIELD), new Uint8Array(atFive.bytes));
      assert.deepEqual(decoded.image, atFive.decoded.image);

      // uint8: the same bytes for both.
      const uint8AtZero = await rawGrpcUnary(
        server.address,
        path,
        encode(DType.DTYPE_UINT8),
        GRPCIO_USER_AGENT,
      );
      const uint8AtFive = await disguised.unary('getSample', request(DType.DTYPE_UINT8), decodeBatch);
      assert.deepEqual(uint8AtZero, new Uint8Array(uint8AtFive.bytes));
      assert.equal(uint8AtZero[0], BATCH_IMAGE_TAG);
    } finally {
      disguised.close();
    }
  });

  it('gives the same-host path float32 images as views too: its reader places each batch for its image', async () => {
    // A grpc-js client: batches in the shared-memory file carry the padding for byte 5; the reader reads each
    // into a buffer of its own at the lead its image needs, padding or not.
    const directory = mkdtempSync('/dev/shm/voxelfeed-test-');
    const feed = createFeedClient({ address: server.address });
    try {
      const request = exactEpochRequest(dataset, { steps: 3, batchSize: 4, seed: 2, cropSize: [16, 96, 96] });
      const answers: boolean[] = [];
      let batches = 0;
      const stream = feed.streamBatches(request, {
        sharedMemory: { directory },
        onSharedMemory: (answer) => answers.push(answer.used),
      });
      for await (const batch of stream) {
        assert.ok(batch.image instanceof Float32Array);
        // A copy would be a Float32Array of its own, exactly as long as the image.
        assert.ok(batch.image.buffer.byteLength > batch.image.byteLength, `step ${batch.step}: a view`);
        batches += 1;
      }
      assert.deepEqual(answers, [true], 'the stream went through shared memory');
      assert.equal(batches, 3);
    } finally {
      feed.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
