import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { FeedBatch } from '../../client/feed-batch.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { type Batch, CropMode, DType } from '../../gen/voxelfeed/v1/voxelfeed.js';

/** The bytes behind a typed tensor view, without copying. */
export function tensorBytes(view: Uint8Array | Float32Array): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * What a trainer must see identically whichever replica served a batch and however often its stream was cut:
 * the step, the sample indices and each tensor's bytes.
 */
export function batchFingerprint(batch: FeedBatch): string {
  const hash = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const indices = batch.samples.map((info) => info.index).join(',');
  const mask = batch.mask ? hash(tensorBytes(batch.mask)) : 'none';
  return `rank ${batch.rank} step ${batch.step} [${indices}] image ${hash(tensorBytes(batch.image))} mask ${mask}`;
}

/** The fingerprints of every batch of an uninterrupted stream from the server at `address`, in order. */
export async function referenceFingerprints(address: string, input: StreamBatchesInput): Promise<string[]> {
  const client = createFeedClient({ address });
  try {
    const seen: string[] = [];
    for await (const batch of client.streamBatches(input)) seen.push(batchFingerprint(batch));
    return seen;
  } finally {
    client.close();
  }
}

const MODE_NAMES: Record<number, string> = {
  [CropMode.CROP_MODE_JITTER]: 'jitter',
  [CropMode.CROP_MODE_NEGATIVE]: 'negative',
  [CropMode.CROP_MODE_CENTER]: 'center',
};

/**
 * Asserts that a client FeedBatch says what ts-proto's `Batch` (the generated client's decoding) says: the
 * same metadata with numbers for 64-bit integers, tensors of the dtype's typed array over the same bytes, no
 * mask when none was sent.
 */
export function assertSameBatch(actual: FeedBatch, expected: Batch, label = ''): void {
  const float = expected.dtype === DType.DTYPE_FLOAT32;
  assert.equal(actual.epoch, expected.epoch, label);
  assert.equal(actual.step, Number(expected.step), label);
  assert.equal(actual.stepsInEpoch, Number(expected.stepsInEpoch), label);
  assert.equal(actual.rank, expected.rank, label);
  assert.equal(actual.worldSize, expected.worldSize === 0 ? 1 : expected.worldSize, label);
  assert.deepEqual([...actual.shape], expected.shape, label);
  assert.equal(actual.dtype, float ? 'float32' : 'uint8', label);
  assert.ok(actual.image instanceof (float ? Float32Array : Uint8Array), `${label} image type`);
  assert.ok(tensorBytes(actual.image).equals(expected.image), `${label} image bytes`);
  if (expected.mask.length === 0) {
    assert.equal(actual.mask, null, label);
  } else {
    assert.ok(actual.mask instanceof Uint8Array, `${label} mask type`);
    assert.ok(tensorBytes(actual.mask).equals(expected.mask), `${label} mask bytes`);
  }
  assert.deepEqual(
    actual.samples.map((info) => ({
      ...info,
      origin: [...info.origin],
      noduleCenter: [...info.noduleCenter],
    })),
    expected.samples.map((info) => ({
      index: Number(info.index),
      seriesUid: info.seriesUid,
      mode: MODE_NAMES[info.mode],
      origin: info.origin,
      nodule: info.nodule,
      noduleCenter: info.noduleCenter,
      noduleDiameter: info.noduleDiameter,
      item: Number(info.item),
      foregroundVoxels: Number(info.foregroundVoxels),
    })),
    label,
  );
}
