import { Batch } from '../../gen/voxelfeed/v1/voxelfeed.js';
import type { BatchBufferPool } from './batch-buffer-pool.js';

/**
 * A `voxelfeed.v1.Batch` already in wire form, laid out so the tensors are written in place:
 *
 *   [pad][tag 6, length, image bytes][tag 7, length, mask bytes][every other field, encoded by ts-proto]
 *
 * Protobuf parsers accept fields in any order, so this decodes exactly like `Batch.encode`. Crops are cut
 * straight into `image` and `mask`, which are views of `bytes`; gRPC then sends `bytes` as it is, instead of
 * copying tensors of several MiB into a growing writer, slicing and copying them again. The leading pad (0 to
 * 3 bytes of the backing buffer, not part of `bytes`) puts `image` on a 4-byte boundary for float32 views.
 */
export interface EncodedBatch {
  readonly bytes: Buffer;
  readonly image: Uint8Array;
  /** Empty when the request did not ask for masks. */
  readonly mask: Uint8Array;
  /** The whole buffer behind `bytes`, to hand back to its pool once gRPC has copied it. */
  readonly backing: Buffer;
}

const IMAGE_TAG = (6 << 3) | 2;
const MASK_TAG = (7 << 3) | 2;

export function allocateEncodedBatch(
  header: Omit<Batch, 'image' | 'mask'>,
  imageBytes: number,
  maskBytes: number,
  pool?: BatchBufferPool,
): EncodedBatch {
  const head = Batch.encode({ ...header, image: EMPTY, mask: EMPTY }).finish();
  const imagePrefix = imageBytes > 0 ? 1 + varintLength(imageBytes) : 0;
  const maskField = maskBytes > 0 ? 1 + varintLength(maskBytes) + maskBytes : 0;
  const total = imagePrefix + imageBytes + maskField + head.byteLength;
  const pad = (4 - (imagePrefix % 4)) % 4;
  const backing = pool ? pool.acquire(pad + total) : Buffer.allocUnsafeSlow(pad + total);
  const bytes = backing.subarray(pad, pad + total);
  let at = 0;
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
  bytes.set(head, at);
  return { bytes, image, mask, backing };
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
