import { closeSync, openSync, readSync } from 'node:fs';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ClientWritableStream, Metadata } from '@grpc/grpc-js';
import { type ReleaseSharedBatchesRequest, SharedMemoryBatch } from '@voxelfeed/proto';
import { decodeBatch } from './decode-batch.js';
import type { FeedBatch } from './feed-batch.js';
import { FeedError } from './feed-error.js';
import type { FeedGrpcClient } from './feed-service.js';

/** Batch.shared_memory. */
const SHARED_MEMORY_FIELD = 11;

/**
 * Decodes the messages of one same-host StreamBatches call. A message that carries Batch.shared_memory is
 * the batch's fields without its tensors: the whole batch is read from the server's file into a buffer of
 * this client's (the one copy of the same-host path) and decoded like a message of the normal stream, so the
 * batch is byte-identical to it; then its place is released to the server. A message without it (the server
 * refused the probe) is decoded as it is.
 *
 * Releases go as messages of one ReleaseSharedBatches call per stream call, opened with the first release
 * and ended with the stream (a unary call per batch cost about 0.7 ms of CPU on both sides). A release lost
 * with its connection needs no retry: the stream fails with it and resumes on a new call with a new file.
 */
export class SharedMemoryBatchReader {
  private file: { readonly path: string; readonly fd: number } | null = null;
  /** The call that carries this stream's releases, opened with the first. */
  private releases: ClientWritableStream<ReleaseSharedBatchesRequest> | null = null;
  private closed = false;

  constructor(
    private readonly client: FeedGrpcClient,
    private readonly metadata: () => Metadata,
  ) {}

  /** The batch a received message stands for (grpc-js's deserializer for the call). */
  decode(bytes: Uint8Array): FeedBatch {
    const where = findSharedMemory(bytes);
    if (where === null) return decodeBatch(bytes);
    const length = Number(where.length);
    // Places the message so that the image starts on a 4-byte boundary: float32 images are then views.
    const imageStart = Number(where.imageOffset - where.offset);
    const lead = (4 - (imageStart % 4)) % 4;
    const buffer = Buffer.allocUnsafeSlow(lead + length);
    const fd = this.open(where.path);
    let read = 0;
    while (read < length) {
      const got = readSync(fd, buffer, lead + read, length - read, Number(where.offset) + read);
      if (got === 0) {
        throw new FeedError(
          'DATA_LOSS',
          `the shared-memory file ended at byte ${Number(where.offset) + read} of a batch`,
          `same-host batch ${where.id} in ${where.path}: the file is shorter than the batch`,
        );
      }
      read += got;
    }
    this.release(where.path, where.id);
    return decodeBatch(buffer.subarray(lead));
  }

  /** The call is over: closes the file (its batches were read) and ends the releases' call. */
  close(): void {
    this.closed = true;
    this.releases?.end();
    this.releases = null;
    if (this.file !== null) closeSync(this.file.fd);
    this.file = null;
  }

  private open(path: string): number {
    if (this.closed)
      throw new FeedError('CANCELLED', 'the same-host stream was closed', 'the stream was closed');
    if (this.file?.path === path) return this.file.fd;
    if (this.file !== null) closeSync(this.file.fd);
    try {
      this.file = { path, fd: openSync(path, 'r') };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'an error';
      const details = `cannot open the server's shared-memory file ${path} (${code})`;
      throw new FeedError(
        'FAILED_PRECONDITION',
        details,
        `${details}: run client and server as the same user, or stream without sharedMemory`,
        { cause: error },
      );
    }
    return this.file.fd;
  }

  private release(path: string, id: bigint): void {
    if (this.releases === null) {
      try {
        this.releases = this.client.releaseSharedBatches(this.metadata(), () => {});
      } catch {
        // The client was closed: its streams are over, and the server removes their files without releases.
        return;
      }
      // A failed call (the connection lost) fails the stream too, which resumes with a new file.
      this.releases.on('error', () => {});
    }
    this.releases.write({ path, ids: [id] });
  }
}

/** Batch.shared_memory of an encoded Batch, or null when it has none; the other fields are skipped. */
function findSharedMemory(bytes: Uint8Array): SharedMemoryBatch | null {
  const reader = new BinaryReader(bytes);
  let found: SharedMemoryBatch | null = null;
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === SHARED_MEMORY_FIELD && wireType === WireType.LengthDelimited) {
        found = SharedMemoryBatch.decode(reader.bytes());
      } else {
        reader.skip(wireType, field);
      }
    }
  } catch (error) {
    const details = `cannot parse a batch of ${bytes.byteLength} bytes: ${(error as Error).message}`;
    throw new FeedError('DATA_LOSS', details, details, { cause: error });
  }
  return found;
}
