import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { SharedMemoryBatch } from '@voxelfeed/proto';
import { type EncodedBatch, GRPC_FRAME_HEADER_BYTES } from '../batches/encoded-batch.js';
import type { HeldBatch } from '../batches/held-batches.js';
import type { SharedMemoryRing } from './shared-memory-ring.js';
import type { SharedMemoryRings } from './shared-memory-rings.js';

/** A message of batch memory as the service sends it: its batch, and how its buffer goes back. */
export interface HeldMessage extends HeldBatch {
  readonly batch: EncodedBatch;
}

/** Batch.shared_memory. */
const SHARED_MEMORY_FIELD = 11;
const EMPTY = Buffer.alloc(0);

/**
 * A same-host stream's messages: each batch is written once into `ring` (its buffer goes back to batch memory
 * as soon as it is written), and the message gRPC sends instead carries the batch's fields but its tensors,
 * and where the whole batch lies (Batch.shared_memory). So the stream holds at most the ring's slots beyond
 * what it prepares ahead, as the normal stream holds at most its unflushed batches. When the messages end
 * normally the ring stays until the client has released them (`rings.retire`); a cancel or an error removes
 * the file at once.
 */
export async function* carryInSharedMemory(
  messages: AsyncIterable<HeldMessage>,
  ring: SharedMemoryRing,
  rings: SharedMemoryRings,
  signal: AbortSignal,
): AsyncGenerator<HeldMessage, void, undefined> {
  rings.add(ring);
  let ended = false;
  try {
    for await (const ready of messages) {
      let where: Omit<SharedMemoryBatch, 'path'>;
      try {
        where = await ring.put(tensorRanges(ready.batch), signal);
      } finally {
        ready.release();
      }
      yield pointerMessage(ready.batch, { path: ring.path, ...where });
    }
    ended = true;
  } finally {
    if (ended && !signal.aborted) rings.retire(ring);
    else await rings.remove(ring);
  }
}

/** The batch message and its tensors' places in it (the server writes the tensors first: encoded-batch.ts). */
function tensorRanges(batch: EncodedBatch) {
  const start = (view: Uint8Array) => (view.byteLength === 0 ? 0 : view.byteOffset - batch.bytes.byteOffset);
  return {
    message: batch.bytes,
    imageStart: start(batch.image),
    imageLength: batch.image.byteLength,
    maskStart: start(batch.mask),
    maskLength: batch.mask.byteLength,
  };
}

/** The fields after the tensors, then Batch.shared_memory, framed for gRPC; nothing to give back. */
function pointerMessage(batch: EncodedBatch, where: SharedMemoryBatch): HeldMessage {
  const tensorsEnd = Math.max(
    batch.image.byteLength === 0
      ? 0
      : batch.image.byteOffset - batch.bytes.byteOffset + batch.image.byteLength,
    batch.mask.byteLength === 0 ? 0 : batch.mask.byteOffset - batch.bytes.byteOffset + batch.mask.byteLength,
  );
  const head = batch.bytes.subarray(tensorsEnd);
  const pointer = new BinaryWriter().uint32((SHARED_MEMORY_FIELD << 3) | 2);
  SharedMemoryBatch.encode(where, pointer.fork()).join();
  const tail = pointer.finish();
  const framed = Buffer.allocUnsafe(GRPC_FRAME_HEADER_BYTES + head.byteLength + tail.byteLength);
  framed[0] = 0;
  framed.writeUInt32BE(head.byteLength + tail.byteLength, 1);
  framed.set(head, GRPC_FRAME_HEADER_BYTES);
  framed.set(tail, GRPC_FRAME_HEADER_BYTES + head.byteLength);
  const bytes = framed.subarray(GRPC_FRAME_HEADER_BYTES);
  const message: EncodedBatch = { bytes, framed, image: EMPTY, mask: EMPTY, backing: framed };
  return { batch: message, release: () => {}, abandon: () => {} };
}
