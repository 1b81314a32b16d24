import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { Batch } from '@voxelfeed/proto';
import { type FeedBatch, tensorDType, toFeedBatch } from './feed-batch.js';
import { FeedError } from './feed-error.js';

/** Batch.image, Batch.mask and Batch.padding. */
const BATCH_TENSOR_FIELDS: TensorFieldNumbers = { image: 6, mask: 7, padding: 12 };

/** The field numbers of a message's tensors, and of the padding the server may put before its image. */
export interface TensorFieldNumbers {
  readonly image: number;
  readonly mask: number;
  readonly padding: number;
}
const EMPTY = new Uint8Array(0);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decodes an encoded `voxelfeed.v1.Batch` without copying its tensors.
 *
 * ts-proto's `Batch.decode` copies `image` and `mask` (`Buffer.from`), several MiB per batch. This walks the
 * top-level fields instead: `image` (6) and `mask` (7) stay `subarray` views of `bytes`, and every other
 * field goes to `Batch.decode` for the metadata, so decoding agrees with `Batch.decode` whatever the field
 * order (the server writes the tensors first, see server/batches/encoded-batch.ts; `Batch.encode` writes them
 * in the middle). A tensor field sent twice keeps its last occurrence, as in any protobuf parser.
 *
 * The returned views keep `bytes` alive and change if it changes: grpc-js hands each message its own buffer.
 *
 * A float32 image becomes a `Float32Array` over the same bytes when its byte offset is a multiple of 4;
 * otherwise (JavaScript cannot view a misaligned float array) it is copied once into an aligned buffer.
 * grpc-js starts each message at byte 5 of a fresh buffer; the server knows it from the call's user-agent
 * and puts a padding field (Batch.padding) before the image so that it lands on a 4-byte boundary there. The
 * copy is left for messages of an older server. uint8 images and masks are never copied.
 */
export function decodeBatch(bytes: Uint8Array): FeedBatch {
  const { image, mask, rest } = splitTensorFields(bytes, BATCH_TENSOR_FIELDS, 'batch');
  const header = Batch.decode(rest);
  const values = tensorDType(header.dtype) === 'float32' ? float32View(image) : image;
  return toFeedBatch(header, values, mask, bytes.byteLength);
}

/**
 * The tensor fields of an encoded message as views of `bytes` (never copied), and its other fields as bytes
 * for the generated decoder (a view too when they lie in one run, as the server writes them). The padding
 * field carries nothing and is dropped: the server writes it first, and kept it would split the other fields
 * into two runs, joined by a copy. `what` names the message in the DATA_LOSS error of bytes that do not
 * parse.
 */
export function splitTensorFields(
  bytes: Uint8Array,
  fields: TensorFieldNumbers,
  what: string,
): { image: Uint8Array; mask: Uint8Array; rest: Uint8Array } {
  const reader = new BinaryReader(bytes);
  let image: Uint8Array = EMPTY;
  let mask: Uint8Array = EMPTY;
  // Byte ranges of the other fields; the server writes them in one run after the tensors, so there is
  // usually a single range that the generated decoder can read in place.
  const ranges: Array<[number, number]> = [];
  try {
    while (reader.pos < reader.len) {
      const start = reader.pos;
      const [field, wireType] = reader.tag();
      if ((field === fields.image || field === fields.mask) && wireType === WireType.LengthDelimited) {
        if (field === fields.image) image = reader.bytes();
        else mask = reader.bytes();
        continue;
      }
      if (field === fields.padding && wireType === WireType.LengthDelimited) {
        reader.skip(wireType, field);
        continue;
      }
      reader.skip(wireType, field);
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last[1] === start) last[1] = reader.pos;
      else ranges.push([start, reader.pos]);
    }
  } catch (error) {
    const details = `cannot parse a ${what} of ${bytes.byteLength} bytes: ${(error as Error).message}`;
    throw new FeedError('DATA_LOSS', details, details, { cause: error });
  }
  return { image, mask, rest: joinRanges(bytes, ranges) };
}

function joinRanges(bytes: Uint8Array, ranges: ReadonlyArray<readonly [number, number]>): Uint8Array {
  if (ranges.length === 0) return EMPTY;
  if (ranges.length === 1) return bytes.subarray(ranges[0]![0], ranges[0]![1]);
  const total = ranges.reduce((sum, [start, end]) => sum + end - start, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const [start, end] of ranges) {
    joined.set(bytes.subarray(start, end), at);
    at += end - start;
  }
  return joined;
}

/** The little-endian float32 values of `bytes`: a view when aligned (on little-endian hosts), else a copy. */
export function float32View(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    const details = `float32 image has ${bytes.byteLength} bytes, not a multiple of 4`;
    throw new FeedError('DATA_LOSS', details, `malformed batch: ${details}`);
  }
  const length = bytes.byteLength / 4;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, length);
  }
  const aligned = new Float32Array(length);
  if (LITTLE_ENDIAN) {
    new Uint8Array(aligned.buffer).set(bytes);
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < length; i++) aligned[i] = view.getFloat32(i * 4, true);
  }
  return aligned;
}
