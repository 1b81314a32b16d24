/**
 * Where a float32 image must start to be viewed in place: JavaScript's Float32Array and numpy's aligned
 * arrays need a 4-byte boundary of the buffer the client received the message into.
 */
export const IMAGE_ALIGN_BYTES = 4;

/**
 * The shortest padding field (Batch.padding, TileBatch.padding): a one-byte tag (field numbers below 16) and
 * a one-byte length of 0. A field holds at most IMAGE_ALIGN_BYTES - 1 zero bytes: its length fits one byte.
 */
export const MIN_PADDING_FIELD_BYTES = 2;

/**
 * The length of the padding field to write in front of a float32 image (tag, length and zero bytes
 * together), so that the image starts on a 4-byte boundary of the client's receive buffer; 0 means no field.
 *
 * `landing` is where the message itself starts in that buffer (grpc-js: byte 5, after the frame header it
 * keeps; grpcio: byte 0 of a bytes object), `precedingBytes` what the message holds before the image's
 * values when there is no padding: the image field's tag and length prefix. The field cannot be 1 byte long,
 * so a shortfall of 1 takes 5 (tag, length 3, three zeros): the answer is 0, 2, 3 or 5.
 */
export function imagePaddingFieldBytes(landing: number, precedingBytes: number): number {
  checkCount('landing', landing);
  checkCount('precedingBytes', precedingBytes);
  const shortfall =
    (IMAGE_ALIGN_BYTES - ((landing + precedingBytes) % IMAGE_ALIGN_BYTES)) % IMAGE_ALIGN_BYTES;
  if (shortfall === 0) return 0;
  return shortfall >= MIN_PADDING_FIELD_BYTES ? shortfall : shortfall + IMAGE_ALIGN_BYTES;
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} is ${value}; it must be a whole number of bytes, 0 or more`);
  }
}
