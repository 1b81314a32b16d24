import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBatch, float32View, splitTensorFields } from '../../client/decode-batch.js';
import { FeedError } from '../../client/feed-error.js';
import { Batch, CropMode, DType } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { allocateEncodedBatch } from '../../server/batches/encoded-batch.js';
import { assertSameBatch, tensorBytes } from '../support/feed-batch-reference.js';

const SAMPLES = [
  {
    index: 24n,
    seriesUid: '1.2.3',
    mode: CropMode.CROP_MODE_JITTER,
    origin: [-1, 5, 300],
    nodule: 2,
    noduleCenter: [1.5, 2.25, 3],
    noduleDiameter: 7.5,
    item: 9n,
    foregroundVoxels: 17n,
    augmentation: undefined,
    backgroundDraws: 0,
    backgroundMissed: false,
    label: 0,
  },
  {
    index: 25n,
    seriesUid: '1.2.4',
    mode: CropMode.CROP_MODE_NEGATIVE,
    origin: [0, 0, 7],
    nodule: -1,
    noduleCenter: [],
    noduleDiameter: 0,
    item: 40n,
    foregroundVoxels: 0n,
    augmentation: undefined,
    backgroundDraws: 0,
    backgroundMissed: false,
    label: 0,
  },
];

function header(dtype: DType, crop: readonly [number, number, number]): Omit<Batch, 'image' | 'mask'> {
  return {
    epoch: 3,
    step: 12n,
    stepsInEpoch: 40n,
    shape: [2, ...crop],
    dtype,
    samples: SAMPLES,
    rank: 1,
    worldSize: 4,
    sharedMemory: undefined,
    padding: Buffer.alloc(0),
  };
}

/** Deterministic tensor contents: uint8 voxels, their float32 value v / 255 as bytes, and a 0/1 mask. */
function tensors(dtype: DType, voxels: number, withMask: boolean) {
  const values = Uint8Array.from({ length: voxels }, (_, i) => (i * 7 + 3) % 256);
  const image =
    dtype === DType.DTYPE_FLOAT32
      ? Buffer.from(Float32Array.from(values, (v) => v / 255).buffer)
      : Buffer.from(values);
  const mask = withMask
    ? Buffer.from(Uint8Array.from({ length: voxels }, (_, i) => (i % 3 === 0 ? 1 : 0)))
    : Buffer.alloc(0);
  return { image, mask };
}

const CASES = [
  { name: 'uint8 with a mask', dtype: DType.DTYPE_UINT8, crop: [3, 4, 5], mask: true },
  { name: 'uint8 without a mask', dtype: DType.DTYPE_UINT8, crop: [3, 4, 5], mask: false },
  { name: 'float32 with a mask', dtype: DType.DTYPE_FLOAT32, crop: [3, 4, 5], mask: true },
  { name: 'float32 without a mask', dtype: DType.DTYPE_FLOAT32, crop: [3, 4, 5], mask: false },
  { name: 'unspecified dtype (uint8)', dtype: DType.DTYPE_UNSPECIFIED, crop: [3, 4, 5], mask: true },
  {
    name: 'large float32 tensors (4-byte length prefixes)',
    dtype: DType.DTYPE_FLOAT32,
    crop: [16, 96, 96],
    mask: true,
  },
] as const;

describe('decodeBatch', () => {
  for (const { name, dtype, crop, mask } of CASES) {
    const voxels = 2 * crop[0] * crop[1] * crop[2];

    it(`agrees with Batch.decode on Batch.encode's field order, ${name}`, () => {
      const bytes = Batch.encode({ ...header(dtype, crop), ...tensors(dtype, voxels, mask) }).finish();
      assertSameBatch(decodeBatch(bytes), Batch.decode(bytes));
    });

    it(`agrees with Batch.decode on the server's layout (tensors first), ${name}`, () => {
      const bytesPerVoxel = dtype === DType.DTYPE_FLOAT32 ? 4 : 1;
      const encoded = allocateEncodedBatch(header(dtype, crop), voxels * bytesPerVoxel, mask ? voxels : 0);
      const { image, mask: maskBytes } = tensors(dtype, voxels, mask);
      encoded.image.set(image);
      encoded.mask.set(maskBytes);
      const decoded = decodeBatch(encoded.bytes);
      assertSameBatch(decoded, Batch.decode(encoded.bytes));
      assert.equal(decoded.wireBytes, encoded.bytes.byteLength);
    });
  }

  it('keeps uint8 images and masks as views of the received bytes', () => {
    const bytes = Batch.encode({
      ...header(DType.DTYPE_UINT8, [3, 4, 5]),
      ...tensors(DType.DTYPE_UINT8, 120, true),
    }).finish();
    const decoded = decodeBatch(bytes);
    assert.equal(decoded.image.buffer, bytes.buffer);
    assert.equal(decoded.mask?.buffer, bytes.buffer);
    // A view, not a copy: a change to the received bytes shows through.
    const at = decoded.image.byteOffset - bytes.byteOffset;
    bytes[at] = 250;
    assert.equal(decoded.image[0], 250);
  });

  it('views a float32 image in place when it is 4-byte aligned, and copies it into an aligned buffer otherwise', () => {
    const voxels = 120;
    const encoded = allocateEncodedBatch(header(DType.DTYPE_FLOAT32, [3, 4, 5]), voxels * 4, voxels);
    encoded.image.set(tensors(DType.DTYPE_FLOAT32, voxels, false).image);
    const imageAt = encoded.image.byteOffset - encoded.bytes.byteOffset;
    const expected = Float32Array.from({ length: voxels }, (_, i) => ((i * 7 + 3) % 256) / 255);
    for (const shift of [0, 1, 2, 3]) {
      const received = new Uint8Array(encoded.bytes.byteLength + shift).subarray(shift);
      received.set(encoded.bytes);
      const { image } = decodeBatch(received);
      assert.ok(image instanceof Float32Array);
      assert.equal(image.byteOffset % 4, 0);
      assert.equal(image.buffer === received.buffer, (shift + imageAt) % 4 === 0, `shift ${shift}`);
      assert.deepEqual(image, expected);
    }
  });

  it('views a float32 image in place when the server padded it for where grpc-js puts the message (byte 5)', () => {
    for (const crop of [
      [3, 4, 5],
      [8, 16, 16],
      [16, 96, 96],
    ] as const) {
      const voxels = 2 * crop[0] * crop[1] * crop[2];
      const encoded = allocateEncodedBatch(header(DType.DTYPE_FLOAT32, crop), voxels * 4, voxels, 5);
      encoded.image.set(tensors(DType.DTYPE_FLOAT32, voxels, false).image);
      encoded.mask.fill(1);
      // As grpc-js hands it: the frame header and the message in one fresh buffer, the message at byte 5.
      const received = new Uint8Array(5 + encoded.bytes.byteLength).subarray(5);
      received.set(encoded.bytes);
      const decoded = decodeBatch(received);
      assert.equal(decoded.image.buffer, received.buffer, `crop ${crop}: a view, not a copy`);
      assertSameBatch(decoded, Batch.decode(received));
    }
  });

  it('leaves the padding field out of the other fields, which stay one view of the message', () => {
    const voxels = 2 * 16 * 96 * 96;
    const encoded = allocateEncodedBatch(header(DType.DTYPE_FLOAT32, [16, 96, 96]), voxels * 4, voxels, 5);
    assert.equal(encoded.bytes[0], (12 << 3) | 2, 'the server wrote a padding field first');
    const { rest } = splitTensorFields(encoded.bytes, { image: 6, mask: 7, padding: 12 }, 'batch');
    assert.equal(rest.buffer, encoded.bytes.buffer, 'a view: no join of two runs');
    assert.equal(Batch.decode(rest).padding.length, 0);
    assert.equal(Batch.decode(rest).step, 12n);
  });

  it('gives null for an absent mask and views for the other fields of a batch without tensors', () => {
    const bytes = Batch.encode({
      ...header(DType.DTYPE_UINT8, [3, 4, 5]),
      shape: [0, 3, 4, 5],
      samples: [],
      image: Buffer.alloc(0),
      mask: Buffer.alloc(0),
    }).finish();
    const decoded = decodeBatch(bytes);
    assert.equal(decoded.mask, null);
    assert.equal(decoded.image.length, 0);
    assert.equal(decoded.step, 12);
  });

  const malformed: Array<[string, () => Uint8Array, string]> = [
    [
      'an image shorter than its shape',
      () =>
        Batch.encode({
          ...header(DType.DTYPE_UINT8, [3, 4, 5]),
          image: Buffer.alloc(100),
          mask: Buffer.alloc(0),
        }).finish(),
      'batch image holds 100 uint8 values; shape [2,3,4,5] needs 120',
    ],
    [
      'a mask of another length',
      () =>
        Batch.encode({
          ...header(DType.DTYPE_UINT8, [3, 4, 5]),
          image: Buffer.alloc(120),
          mask: Buffer.alloc(7),
        }).finish(),
      'batch mask holds 7 bytes',
    ],
    [
      'an unknown dtype',
      () =>
        Batch.encode({
          ...header(9 as DType, [3, 4, 5]),
          image: Buffer.alloc(120),
          mask: Buffer.alloc(0),
        }).finish(),
      'batch dtype is 9',
    ],
    [
      'a float32 image of 4n + 2 bytes',
      () =>
        Batch.encode({
          ...header(DType.DTYPE_FLOAT32, [3, 4, 5]),
          image: Buffer.alloc(482),
          mask: Buffer.alloc(0),
        }).finish(),
      'not a multiple of 4',
    ],
    [
      'a truncated message',
      () =>
        Batch.encode({ ...header(DType.DTYPE_UINT8, [3, 4, 5]), ...tensors(DType.DTYPE_UINT8, 120, true) })
          .finish()
          .subarray(0, 90),
      'cannot parse a batch of 90 bytes',
    ],
  ];
  for (const [name, bytes, fragment] of malformed) {
    it(`refuses ${name} with DATA_LOSS`, () => {
      assert.throws(
        () => decodeBatch(bytes()),
        (error: unknown) =>
          error instanceof FeedError && error.code === 'DATA_LOSS' && error.details.includes(fragment),
      );
    });
  }
});

describe('float32View', () => {
  it('reads little-endian floats at every byte offset', () => {
    const values = Float32Array.of(1.5, -2, 1 / 3, 1e-30);
    for (const offset of [0, 1, 2, 3, 4]) {
      const bytes = new Uint8Array(offset + 16).subarray(offset);
      bytes.set(new Uint8Array(values.buffer));
      const view = float32View(bytes);
      assert.deepEqual(view, values);
      assert.equal(view.buffer === bytes.buffer, offset % 4 === 0, `offset ${offset}`);
      assert.ok(tensorBytes(view).equals(Buffer.from(bytes)));
    }
  });
});
