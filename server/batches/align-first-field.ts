import { FRAME_SLACK_BYTES, GRPC_FRAME_HEADER_BYTES } from './encoded-batch.js';

/** Protobuf's longest varint; parsers accept any length up to it for any value (an "over-long" varint). */
const MAX_VARINT_BYTES = 10;

/**
 * `framed` (a gRPC frame header, then a message written by writeEncodedBatch, whose first field is the image)
 * with the first field's bytes on a 4-byte boundary for a receiver that puts each message at byte
 * `messageOffset` (modulo 4) of its memory, so that it can view a float32 image in place instead of copying
 * it. The field's length prefix is written 1 to 3 bytes longer (a varint with 0x80 continuation bytes, which
 * every protobuf parser reads as the same number) and the frame header moves back by as many bytes into the
 * slack that writeEncodedBatch leaves in front of it; the field's bytes stay where they are. The result is a
 * view of the same memory. Nothing changes (and `framed` is returned) when the first field is not
 * length-delimited with a one-byte tag, is already aligned, or there is no room.
 *
 * The bytes in front of `framed` must be that slack: only for a buffer laid out by writeEncodedBatch, and
 * sent to one call only (it is rewritten for that call's receiver). Afterwards the batch's `bytes` view no
 * longer starts at the message: the returned view is the message.
 */
export function alignFirstField(framed: Buffer, messageOffset: number): Buffer {
  const tagAt = GRPC_FRAME_HEADER_BYTES;
  const tag = framed[tagAt];
  if (tag === undefined || tag >= 0x80 || (tag & 7) !== 2) return framed;
  let length = 0;
  let scale = 1;
  let prefixBytes = 0;
  for (;;) {
    const byte = framed[tagAt + 1 + prefixBytes];
    if (byte === undefined || prefixBytes === MAX_VARINT_BYTES) return framed;
    length += (byte & 0x7f) * scale;
    scale *= 128;
    prefixBytes += 1;
    if (byte < 0x80) break;
  }
  const extra = (4 - ((messageOffset + 1 + prefixBytes) % 4)) % 4;
  if (extra === 0 || extra > FRAME_SLACK_BYTES) return framed;
  if (framed.byteOffset < extra || prefixBytes + extra > MAX_VARINT_BYTES) return framed;
  const moved = Buffer.from(framed.buffer, framed.byteOffset - extra, framed.length + extra);
  moved[0] = 0;
  moved.writeUInt32BE(moved.length - GRPC_FRAME_HEADER_BYTES, 1);
  moved[tagAt] = tag;
  writePaddedVarint(moved, tagAt + 1, length, prefixBytes + extra);
  return moved;
}

/** `value` as a varint of exactly `bytes` bytes (at least its shortest form). */
function writePaddedVarint(target: Buffer, at: number, value: number, bytes: number): void {
  let rest = value;
  for (let i = 0; i < bytes - 1; i++) {
    target[at + i] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  target[at + bytes - 1] = rest;
}
