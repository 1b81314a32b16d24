import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BinaryReader } from '@bufbuild/protobuf/wire';
import { Batch, DType } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import { alignFirstField } from '../../../server/batches/align-first-field.js';
import { allocateEncodedBatch, GRPC_FRAME_HEADER_BYTES } from '../../../server/batches/encoded-batch.js';

const header = {
  epoch: 1,
  step: 7n,
  stepsInEpoch: 40n,
  shape: [1, 1, 1, 1],
  dtype: DType.DTYPE_FLOAT32,
  samples: [],
  rank: 0,
  worldSize: 1,
};

/** Image sizes whose length prefixes take 1, 2, 3 and 4 bytes. */
const IMAGE_BYTES = [4, 128, 16_384, 2_097_152];

/** A batch with a recognisable image (1, 2, 3, ...) and mask, framed as writeEncodedBatch frames it. */
function encoded(imageBytes: number) {
  const batch = allocateEncodedBatch(header, imageBytes, imageBytes / 4);
  for (let i = 0; i < batch.image.length; i++) batch.image[i] = i % 251;
  batch.mask.fill(1);
  return batch;
}

/** Where the first field's bytes start in the message, by a protobuf reader. */
function firstFieldStart(message: Uint8Array): number {
  const reader = new BinaryReader(message);
  reader.tag();
  reader.uint32();
  return reader.pos;
}

describe('alignFirstField', () => {
  for (const imageBytes of IMAGE_BYTES) {
    for (const messageOffset of [0, 1, 2, 3, 5]) {
      it(`puts an image of ${imageBytes} bytes on a 4-byte boundary for a message at offset ${messageOffset}`, () => {
        const batch = encoded(imageBytes);
        const expected = Batch.decode(batch.bytes);
        const framed = alignFirstField(batch.framed, messageOffset);
        const message = framed.subarray(GRPC_FRAME_HEADER_BYTES);
        assert.equal((messageOffset + firstFieldStart(message)) % 4, 0);
        assert.equal(framed[0], 0);
        assert.equal(framed.readUInt32BE(1), message.length);
        assert.deepEqual(Batch.decode(message), expected);
        // The same memory: the image has not moved, only its length prefix and the frame header.
        assert.equal(framed.buffer, batch.backing.buffer);
        assert.equal(
          framed.byteOffset + GRPC_FRAME_HEADER_BYTES + firstFieldStart(message),
          batch.image.byteOffset,
        );
        assert.ok(message.length - batch.bytes.length <= 3);
      });
    }
  }

  it('leaves a message that is already aligned as it is', () => {
    const batch = encoded(2_097_152);
    const start = firstFieldStart(batch.bytes);
    const framed = alignFirstField(batch.framed, (4 - (start % 4)) % 4);
    assert.equal(framed, batch.framed);
  });

  it('leaves a message whose first field is not length-delimited, or with no room in front, as it is', () => {
    const noTensors = allocateEncodedBatch(header, 0, 0);
    assert.equal(alignFirstField(noTensors.framed, 1), noTensors.framed);
    const batch = encoded(2_097_152);
    const own = Buffer.from(batch.framed);
    assert.equal(alignFirstField(own, 1), own);
  });
});
