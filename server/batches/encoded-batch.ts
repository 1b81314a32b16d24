import { Batch, DType } from '@voxelfeed/proto';
import { IMAGE_ALIGN_BYTES, imagePaddingFieldBytes, MIN_PADDING_FIELD_BYTES } from './image-alignment.js';

/**
 * A `voxelfeed.v1.Batch` already in wire form, laid out so the tensors are written in place:
 *
 *   [pad][gRPC frame: 0, length (uint32 BE)][tag 12, length, zeros][tag 6, length, image bytes]
 *   [tag 7, length, mask bytes][every other field]
 *
 * Protobuf parsers accept fields in any order, so `bytes` decodes exactly like `Batch.encode`. Crops are cut
 * straight into `image` and `mask`, which are views of `bytes`. `framed` is `bytes` behind the 5-byte header
 * of a gRPC message (not compressed, then the length), so gRPC can send it without framing it into a copy of
 * its own (pre-framed-messages.ts). The leading pad (0 to 3 bytes of the backing buffer) puts `image` on a
 * 4-byte boundary of the server's buffer, where augmented float32 crops are written through a Float32Array.
 *
 * The padding field (Batch.padding, only for float32 images) does the same for the client's buffer, whose
 * message starts elsewhere: at the `imageLanding` the layout was made for (image-alignment.ts). uint8
 * messages have none.
 */
export interface EncodedBatch {
  readonly bytes: Buffer;
  /** `bytes` as one gRPC message: the frame header, then `bytes`. */
  readonly framed: Buffer;
  readonly image: Uint8Array;
  /** Empty when the request did not ask for masks. */
  readonly mask: Uint8Array;
  /** The whole buffer behind `bytes`, to hand back to where it came from once gRPC is done with it. */
  readonly backing: Buffer;
}

/** What a batch needs before its buffer exists: the size to ask for, and the fields to write after the tensors. */
export interface EncodedBatchLayout {
  /** Bytes of the backing buffer: pad, frame header and message. */
  readonly backingBytes: number;
  readonly imageBytes: number;
  readonly maskBytes: number;
  readonly head: Uint8Array;
  /** The padding field's length in front of the image (tag, length and zeros); 0: no padding field. */
  readonly paddingBytes: number;
  /** The protobuf tags (field number, length-delimited wire type) of the padding, image and mask fields. */
  readonly paddingTag: number;
  readonly imageTag: number;
  readonly maskTag: number;
}

/** The field numbers of a message's tensors and of the padding that aligns its image (each below 16). */
export interface TensorFields {
  readonly image: number;
  readonly mask: number;
  readonly padding: number;
}

/** The 5 bytes gRPC puts before every message on the wire: a compression flag (0: none) and the length. */
export const GRPC_FRAME_HEADER_BYTES = 5;

/** Batch.image, Batch.mask and Batch.padding. */
const BATCH_TENSOR_FIELDS: TensorFields = { image: 6, mask: 7, padding: 12 };

/** The batch's fields apart from its tensors and padding, which the layout places. */
export type BatchHeaderFields = Omit<Batch, 'image' | 'mask' | 'sharedMemory' | 'padding'>;

/**
 * `imageLanding`: where the client's gRPC library puts the message in its receive buffer (call-landing.ts);
 * a float32 image is aligned there. 0 (grpcio and most libraries) unless told.
 */
export function layOutEncodedBatch(
  header: BatchHeaderFields,
  imageBytes: number,
  maskBytes: number,
  imageLanding = 0,
): EncodedBatchLayout {
  const head = encodeBatchHeader(header);
  const landing = header.dtype === DType.DTYPE_FLOAT32 ? imageLanding : null;
  return layOutTensorMessage(head, BATCH_TENSOR_FIELDS, imageBytes, maskBytes, landing);
}

/**
 * The layout of any message with an image and a mask `bytes` field (Batch, TileBatch): `head` is every other
 * field, encoded; `fields` the field numbers of the two tensors and the padding (below 16, so each tag is one
 * byte). `imageLanding`: where the message lands in the client's buffer, for a padding field that aligns the
 * image there; null for no padding field (uint8 images, which need no alignment).
 */
export function layOutTensorMessage(
  head: Uint8Array,
  fields: TensorFields,
  imageBytes: number,
  maskBytes: number,
  imageLanding: number | null,
): EncodedBatchLayout {
  const paddingBytes =
    imageLanding === null || imageBytes === 0
      ? 0
      : imagePaddingFieldBytes(imageLanding, imagePrefixBytes(imageBytes));
  const { pad, total } = measure(head, imageBytes, maskBytes, paddingBytes);
  return {
    backingBytes: pad + GRPC_FRAME_HEADER_BYTES + total,
    imageBytes,
    maskBytes,
    head,
    paddingBytes,
    paddingTag: (fields.padding << 3) | 2,
    imageTag: (fields.image << 3) | 2,
    maskTag: (fields.mask << 3) | 2,
  };
}

/** Writes the layout's fields into `backing` (at least `layout.backingBytes` long); the tensors are left to fill. */
export function writeEncodedBatch(layout: EncodedBatchLayout, backing: Buffer): EncodedBatch {
  const { imageBytes, maskBytes, head, paddingBytes, paddingTag, imageTag, maskTag } = layout;
  const { pad, total } = measure(head, imageBytes, maskBytes, paddingBytes);
  if (backing.length < pad + GRPC_FRAME_HEADER_BYTES + total) {
    throw new RangeError(`a batch needs ${layout.backingBytes} bytes; the buffer has ${backing.length}`);
  }
  const framed = backing.subarray(pad, pad + GRPC_FRAME_HEADER_BYTES + total);
  framed[0] = 0;
  framed.writeUInt32BE(total, 1);
  const bytes = framed.subarray(GRPC_FRAME_HEADER_BYTES);
  let at = 0;
  if (paddingBytes > 0) {
    // Zeros written every time: batch buffers are reused, and the field must carry nothing.
    bytes[at++] = paddingTag;
    bytes[at++] = paddingBytes - MIN_PADDING_FIELD_BYTES;
    bytes.fill(0, at, at + paddingBytes - MIN_PADDING_FIELD_BYTES);
    at += paddingBytes - MIN_PADDING_FIELD_BYTES;
  }
  let image: Uint8Array = EMPTY;
  if (imageBytes > 0) {
    bytes[at++] = imageTag;
    at = writeVarint(bytes, at, imageBytes);
    image = bytes.subarray(at, at + imageBytes);
    at += imageBytes;
  }
  let mask: Uint8Array = EMPTY;
  if (maskBytes > 0) {
    bytes[at++] = maskTag;
    at = writeVarint(bytes, at, maskBytes);
    mask = bytes.subarray(at, at + maskBytes);
    at += maskBytes;
  }
  bytes.set(head, at);
  return { bytes, framed, image, mask, backing };
}

/**
 * Writes `header` as the fields after the tensors of a batch already written into `backing` by
 * `writeEncodedBatch(layout, backing)`, and frames the message again: the tensors stay where they are (their
 * place depends on their sizes only), so fields known only once the crops are cut (foreground counts) go in
 * last. `layout` must have been sized for a header at least as long as this one.
 */
export function finishEncodedBatch(
  layout: EncodedBatchLayout,
  backing: Buffer,
  header: BatchHeaderFields,
): EncodedBatch {
  const head = encodeBatchHeader(header);
  if (head.byteLength > layout.head.byteLength) {
    throw new RangeError(
      `the batch's fields take ${head.byteLength} bytes; its layout has room for ${layout.head.byteLength}`,
    );
  }
  return writeEncodedBatch({ ...layout, head }, backing);
}

/** A batch in a buffer of its own (GetSample, tests); streams take theirs from the server's batch memory. */
export function allocateEncodedBatch(
  header: BatchHeaderFields,
  imageBytes: number,
  maskBytes: number,
  imageLanding = 0,
): EncodedBatch {
  const layout = layOutEncodedBatch(header, imageBytes, maskBytes, imageLanding);
  return writeEncodedBatch(layout, Buffer.allocUnsafeSlow(layout.backingBytes));
}

const EMPTY = Buffer.alloc(0);

function encodeBatchHeader(header: BatchHeaderFields): Uint8Array {
  return Batch.encode({
    ...header,
    image: EMPTY,
    mask: EMPTY,
    sharedMemory: undefined,
    padding: EMPTY,
  }).finish();
}

/** The image field's tag and length prefix: what precedes its values. */
function imagePrefixBytes(imageBytes: number): number {
  return imageBytes > 0 ? 1 + varintLength(imageBytes) : 0;
}

function measure(head: Uint8Array, imageBytes: number, maskBytes: number, paddingBytes: number) {
  const beforeImage = paddingBytes + imagePrefixBytes(imageBytes);
  const maskField = maskBytes > 0 ? 1 + varintLength(maskBytes) + maskBytes : 0;
  const total = beforeImage + imageBytes + maskField + head.byteLength;
  // Batch buffers come from allocUnsafeSlow (offset 0 of their own ArrayBuffer): this aligns the image there.
  const pad =
    (IMAGE_ALIGN_BYTES - ((GRPC_FRAME_HEADER_BYTES + beforeImage) % IMAGE_ALIGN_BYTES)) % IMAGE_ALIGN_BYTES;
  return { pad, total };
}

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
