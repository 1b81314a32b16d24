import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batch, CropMode, DType } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import {
  allocateEncodedBatch,
  finishEncodedBatch,
  GRPC_FRAME_HEADER_BYTES,
  layOutEncodedBatch,
  writeEncodedBatch,
} from '../../../server/batches/encoded-batch.js';

const header = {
  epoch: 3,
  step: 12n,
  stepsInEpoch: 40n,
  shape: [2, 3, 4, 5],
  dtype: DType.DTYPE_FLOAT32,
  samples: [
    {
      index: 24n,
      seriesUid: '1.2.3',
      mode: CropMode.CROP_MODE_JITTER,
      origin: [-1, 5, 300],
      nodule: 2,
      noduleCenter: [1.5, 2.25, 3],
      noduleDiameter: 7.5,
      item: 9n,
      foregroundVoxels: 312n,
      augmentation: undefined,
      backgroundDraws: 0,
      backgroundMissed: false,
      label: 0,
    },
  ],
  rank: 1,
  worldSize: 4,
};

describe('allocateEncodedBatch', () => {
  for (const [imageBytes, maskBytes] of [
    [120, 60],
    [4, 0],
    [300_000, 0],
    [2_400_000, 600_000],
  ] as const) {
    it(`decodes like Batch.encode of the same message (image ${imageBytes} B, mask ${maskBytes} B)`, () => {
      const encoded = allocateEncodedBatch(header, imageBytes, maskBytes);
      encoded.image.forEach((_, i) => {
        encoded.image[i] = (i * 7) % 256;
      });
      encoded.mask.forEach((_, i) => {
        encoded.mask[i] = i % 2;
      });
      const padding = Batch.decode(encoded.bytes).padding;
      assert.ok(padding.length <= 3 && padding.every((byte) => byte === 0), 'padding: up to 3 zero bytes');
      const expected = {
        ...header,
        image: Buffer.from(encoded.image),
        mask: Buffer.from(encoded.mask),
        sharedMemory: undefined,
        padding: Buffer.alloc(padding.length),
      };
      assert.deepEqual(Batch.decode(encoded.bytes), Batch.decode(Batch.encode(expected).finish()));
      // Batch.encode leaves an empty padding field out; the server may write one (tag, length 0).
      const paddingField = encoded.bytes[0] === ((12 << 3) | 2) ? 2 + padding.length : 0;
      const withoutPadding = Batch.encode({ ...expected, padding: Buffer.alloc(0) }).finish();
      assert.equal(encoded.bytes.length, withoutPadding.length + paddingField);
    });
  }

  it('puts the image on a 4-byte boundary so float32 views need no copy', () => {
    for (const imageBytes of [1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 300_000_000 / 100]) {
      const encoded = allocateEncodedBatch(header, imageBytes, 0);
      assert.equal(encoded.image.byteOffset % 4, 0, `image of ${imageBytes} bytes`);
    }
  });

  it("puts a float32 image on a 4-byte boundary of the client's buffer, wherever the message lands there", () => {
    for (const landing of [0, 5]) {
      for (const imageBytes of [4, 124, 128, 16_380, 16_384, 2_097_148, 2_097_152, 4_718_592]) {
        const encoded = allocateEncodedBatch(header, imageBytes, 0, landing);
        const atClient = landing + (encoded.image.byteOffset - encoded.bytes.byteOffset);
        assert.equal(atClient % 4, 0, `image of ${imageBytes} bytes, message at byte ${landing}`);
        assert.equal(encoded.image.byteOffset % 4, 0, 'aligned in the server buffer too');
      }
    }
  });

  it('writes uint8 batches without a padding field, the image first, wherever the message lands', () => {
    const uint8 = { ...header, dtype: DType.DTYPE_UINT8 };
    for (const imageBytes of [120, 300_000, 2_400_000]) {
      const at0 = allocateEncodedBatch(uint8, imageBytes, 60, 0);
      const at5 = allocateEncodedBatch(uint8, imageBytes, 60, 5);
      for (const encoded of [at0, at5]) {
        encoded.image.fill(7);
        encoded.mask.fill(1);
      }
      assert.ok(at0.bytes.equals(at5.bytes), `image of ${imageBytes} bytes: landing makes no difference`);
      assert.equal(at0.bytes[0], (6 << 3) | 2, 'the image field comes first');
      assert.equal(Batch.decode(at0.bytes).padding.length, 0);
    }
  });

  it('frames the message as gRPC does: flag 0, the length big-endian, then the message', () => {
    for (const [imageBytes, maskBytes] of [
      [120, 60],
      [2_400_000, 600_000],
    ] as const) {
      const encoded = allocateEncodedBatch(header, imageBytes, maskBytes);
      assert.equal(encoded.framed.length, encoded.bytes.length + GRPC_FRAME_HEADER_BYTES);
      assert.equal(encoded.framed[0], 0);
      assert.equal(encoded.framed.readUInt32BE(1), encoded.bytes.length);
      assert.ok(encoded.framed.subarray(GRPC_FRAME_HEADER_BYTES).equals(encoded.bytes));
      assert.equal(encoded.framed.buffer, encoded.backing.buffer, 'a view, not a copy');
    }
  });

  it('writes into a larger buffer taken back for reuse, and still decodes after the sample info grows', () => {
    const first = layOutEncodedBatch(header, 1000, 100);
    const backing = Buffer.allocUnsafeSlow(first.backingBytes + 4096).fill(0xee);
    writeEncodedBatch(first, backing);
    const longer = { ...header, samples: [{ ...header.samples[0]!, seriesUid: '1.2.3.4.5.6.7.8.9' }] };
    const second = writeEncodedBatch(layOutEncodedBatch(longer, 1000, 100), backing);
    assert.equal(second.backing, backing, 'the same buffer');
    second.image.fill(5);
    second.mask.fill(1);
    assert.equal(Batch.decode(second.bytes).samples[0]!.seriesUid, '1.2.3.4.5.6.7.8.9');
    assert.equal(Batch.decode(second.bytes).image.length, 1000);
    assert.equal(second.framed.readUInt32BE(1), second.bytes.length);
  });

  it('writes fields known after the cut (foreground counts) behind tensors already written, leaving them', () => {
    const widest = { ...header, samples: [{ ...header.samples[0]!, foregroundVoxels: 1_000_000n }] };
    const layout = layOutEncodedBatch(widest, 1000, 100);
    const backing = Buffer.allocUnsafeSlow(layout.backingBytes).fill(0xee);
    const first = writeEncodedBatch(layout, backing);
    first.image.fill(5);
    first.mask.fill(1);
    for (const count of [0n, 7n, 1_000_000n]) {
      const actual = { ...header, samples: [{ ...header.samples[0]!, foregroundVoxels: count }] };
      const finished = finishEncodedBatch(layout, backing, actual);
      const decoded = Batch.decode(finished.bytes);
      assert.equal(decoded.samples[0]!.foregroundVoxels, count);
      assert.ok(Buffer.from(decoded.image).equals(Buffer.alloc(1000, 5)), 'image kept');
      assert.ok(Buffer.from(decoded.mask).equals(Buffer.alloc(100, 1)), 'mask kept');
      assert.equal(finished.framed.readUInt32BE(1), finished.bytes.length);
      assert.equal(finished.image.byteOffset, first.image.byteOffset);
    }
    const wider = { ...header, samples: [{ ...header.samples[0]!, foregroundVoxels: 10n ** 12n }] };
    assert.throws(() => finishEncodedBatch(layout, backing, wider), /its layout has room for/);
  });

  it('refuses a buffer too small for the layout, naming both sizes', () => {
    const layout = layOutEncodedBatch(header, 1000, 100);
    assert.throws(
      () => writeEncodedBatch(layout, Buffer.alloc(layout.backingBytes - 1)),
      new RegExp(`needs ${layout.backingBytes} bytes; the buffer has ${layout.backingBytes - 1}`),
    );
  });
});
