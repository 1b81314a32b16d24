import { Batch } from '../../gen/voxelfeed/v1/voxelfeed.js';

/**
 * A `voxelfeed.v1.Batch` already in wire form, laid out so the tensors are written in place:
 *
 *   [every other field, encoded by ts-proto][tag 6, length, image bytes][tag 7, length, mask bytes]
 *
 * Protobuf parsers accept fields in any order, so this decodes exactly like `Batch.encode`. Crops are cut
 * straight into `image` and `mask`, which are views of `bytes`; gRPC then sends `bytes` as it is, instead of
 * copying tensors of several MiB into a growing writer, slicing and copying them again.
 */
export interface EncodedBatch {
  readonly bytes: Buffer;
  readonly image: Uint8Array;
  /** Empty when the request did not ask for masks. */
  readonly mask: Uint8Array;
}

const IMAGE_TAG = (6 << 3) | 2;
const MASK_TAG = (7 << 3) | 2;

export function allocateEncodedBatch(
  header: Omit<Batch, 'image' | 'mask'>,
  imageBytes: number,
  maskBytes: number,
): EncodedBatch {
  const head = Batch.encode({ ...header, image: EMPTY, mask: EMPTY }).finish();
  const imageField = imageBytes > 0 ? 1 + varintLength(imageBytes) + imageBytes : 0;
  const maskField = maskBytes > 0 ? 1 + varintLength(maskBytes) + maskBytes : 0;
  const bytes = Buffer.allocUnsafe(head.byteLength + imageField + maskField);
  bytes.set(head, 0);
  let at = head.byteLength;
  let image: Uint8Array = EMPTY;
  if (imageBytes > 0) {
    bytes[at++] = IMAGE_TAG;
    at = writeVarint(bytes, at, imageBytes);
    image = bytes.subarray(at, at + imageBytes);
    at += imageBytes;
  }
  let mask: Uint8Array = EMPTY;
  if (maskBytes > 0) {
    bytes[at++] = MASK_TAG;
    at = writeVarint(bytes, at, maskBytes);
    mask = bytes.subarray(at, at + maskBytes);
    at += maskBytes;
  }
  return { bytes, image, mask };
}

const EMPTY = Buffer.alloc(0);

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    length += 1;
  }
  return length;
}

function writeVarint(target: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  target[at++] = value;
  return at;
}
