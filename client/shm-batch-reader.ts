import { closeSync, openSync, readSync } from 'node:fs';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import type { ClientWritableStream, Metadata } from '@grpc/grpc-js';
import { type ReleaseSharedBatchesRequest, SharedMemoryBatch } from '@voxelfeed/proto';
import { decodeBatch } from './decode-batch.js';
import type { FeedBatch } from './feed-batch.js';
import { FeedError } from './feed-error.js';
import type { FeedGrpcClient } from './feed-service.js';

/** Batch.step, Batch.steps_in_epoch and Batch.shared_memory. */
const STEP_FIELD = 2;
const STEPS_IN_EPOCH_FIELD = 3;
const SHARED_MEMORY_FIELD = 11;

/**
 * Where a batch's bytes go when it is read out of shared memory: a new buffer per batch (the batch's own), or
 * one buffer used again for every batch (`reuseBuffers`: a batch is then valid until the next is taken).
 */
export interface ReadBuffers {
  /** A buffer of at least `bytes` for the batch about to be read. */
  take(bytes: number): Buffer;
}

/** A new buffer per batch. */
export const OWN_BUFFERS: ReadBuffers = { take: (bytes) => Buffer.allocUnsafeSlow(bytes) };

/** A reused buffer's room beyond its first batch: a stream's batches differ by their samples' fields. */
const REUSED_BUFFER_SLACK_BYTES = 64 * 1024;

/** One buffer for every batch, made anew only when a batch does not fit. */
export function reusedBuffer(): ReadBuffers {
  let buffer = Buffer.alloc(0);
  return {
    take(bytes) {
      if (buffer.byteLength < bytes) buffer = Buffer.allocUnsafeSlow(bytes + REUSED_BUFFER_SLACK_BYTES);
      return buffer;
    },
  };
}

/**
 * A same-host batch as it arrives: its step, and where the server wrote it; `read()` reads it out of shared
 * memory when the consumer takes it.
 */
export class SharedBatchPointer {
  constructor(
    readonly step: number,
    readonly stepsInEpoch: number,
    private readonly reader: SharedMemoryBatchReader,
    private readonly where: SharedMemoryBatch,
  ) {}

  /** The pointer reached the consumer's queue: the reader stays open until it is read. */
  queued(): void {
    this.reader.queued();
  }

  read(): FeedBatch {
    return this.reader.read(this.where);
  }
}

/**
 * Decodes the messages of one same-host StreamBatches call. A message that carries Batch.shared_memory is
 * the batch's fields without its tensors and where the whole batch lies in the server's file: it becomes a
 * SharedBatchPointer, and the batch is read (the one copy of the same-host path) only when the consumer takes
 * it, into a buffer of `buffers`, decoded like a message of the normal stream (so byte-identical to it), and
 * then released to the server. So the batches read ahead are those the server holds in its file (at most
 * its unflushed batches) and the client holds only the batches handed out: gRPC's pause cannot hold back
 * these small messages, which a window of HTTP/2 lets through by the dozen. The file is opened with the
 * first pointer, so its batches stay readable if the server removes it (a failed or cancelled call). A
 * message without it (the server refused the probe) is decoded as it is.
 *
 * Releases go as messages of one ReleaseSharedBatches call per stream call, opened with the first pointer
 * and ended once the call is over and the last of its batches that reached the consumer is read (a unary
 * call per batch cost about 0.7 ms of CPU on both sides). A release lost with its connection needs no retry: the stream fails with it and
 * resumes on a new call with a new file.
 */
export class SharedMemoryBatchReader {
  private file: { readonly path: string; readonly fd: number } | null = null;
  /** The call that carries this stream's releases, opened with the first. */
  private releases: ClientWritableStream<ReleaseSharedBatchesRequest> | null = null;
  /** Pointers decoded, queued for the consumer, and read. */
  private decoded = 0;
  private inQueue = 0;
  private readCount = 0;
  /**
   * How the call ended: null while it runs; `ok` when it ended normally (every decoded pointer reaches the
   * queue); `failed` when it did not (pointers still in gRPC's buffer are dropped, the queued ones are read).
   */
  private ending: 'ok' | 'failed' | null = null;
  private closed = false;

  constructor(
    private readonly client: FeedGrpcClient,
    private readonly metadata: () => Metadata,
    private readonly buffers: ReadBuffers,
  ) {}

  /** What a received message stands for (grpc-js's deserializer for the call). */
  decode(bytes: Uint8Array): FeedBatch | SharedBatchPointer {
    const found = findSharedMemory(bytes);
    if (found === null) return decodeBatch(bytes);
    this.open(found.where.path);
    // The releases' call opens with the first pointer: opened later (when the loop takes the batch), a server
    // that has begun to shut down by then would refuse it, and its stream would wait for releases that
    // never come.
    this.openReleases();
    this.decoded += 1;
    return new SharedBatchPointer(found.step, found.stepsInEpoch, this, found.where);
  }

  /** One more pointer reached the consumer's queue. */
  queued(): void {
    this.inQueue += 1;
  }

  /** Reads one pointed-to batch into a buffer of `buffers`, releases its place, and decodes it. */
  read(where: SharedMemoryBatch): FeedBatch {
    const length = Number(where.length);
    // Places the message so that the image starts on a 4-byte boundary: float32 images are then views.
    const imageStart = Number(where.imageOffset - where.offset);
    const lead = (4 - (imageStart % 4)) % 4;
    const buffer = this.buffers.take(lead + length);
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
    this.releases?.write({ path: where.path, ids: [where.id] });
    this.readCount += 1;
    this.disposeWhenRead();
    return decodeBatch(buffer.subarray(lead, lead + length));
  }

  /**
   * The call is over (`ok`: it ended normally): once the batches that reach the consumer are read, the file
   * closes and the releases' call ends.
   */
  callOver(ok: boolean): void {
    this.ending ??= ok ? 'ok' : 'failed';
    this.disposeWhenRead();
  }

  /** Closes the file and ends the releases' call now: no pointer of this call will be read. */
  dispose(): void {
    if (this.closed) return;
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
    if (this.file !== null) {
      throw new FeedError(
        'DATA_LOSS',
        `the server moved the stream's batches from ${this.file.path} to ${path} within one call`,
        `same-host batches in ${path}: one call writes one file`,
      );
    }
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

  private disposeWhenRead(): void {
    if (this.ending === null) return;
    const due = this.ending === 'ok' ? this.decoded : this.inQueue;
    if (this.readCount >= due) this.dispose();
  }

  private openReleases(): void {
    if (this.releases !== null) return;
    try {
      this.releases = this.client.releaseSharedBatches(this.metadata(), () => {});
    } catch {
      // The client was closed: its streams are over, and the server removes their files without releases.
      return;
    }
    // A failed call (the connection lost) fails the stream too, which resumes with a new file.
    this.releases.on('error', () => {});
  }
}

/**
 * Batch.shared_memory of an encoded Batch with the batch's step and steps in its epoch, or null when it has
 * none; the other fields are skipped.
 */
function findSharedMemory(
  bytes: Uint8Array,
): { where: SharedMemoryBatch; step: number; stepsInEpoch: number } | null {
  const reader = new BinaryReader(bytes);
  let where: SharedMemoryBatch | null = null;
  let step = 0;
  let stepsInEpoch = 0;
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === SHARED_MEMORY_FIELD && wireType === WireType.LengthDelimited) {
        where = SharedMemoryBatch.decode(reader.bytes());
      } else if (field === STEP_FIELD && wireType === WireType.Varint) {
        step = Number(reader.uint64());
      } else if (field === STEPS_IN_EPOCH_FIELD && wireType === WireType.Varint) {
        stepsInEpoch = Number(reader.uint64());
      } else {
        reader.skip(wireType, field);
      }
    }
  } catch (error) {
    const details = `cannot parse a batch of ${bytes.byteLength} bytes: ${(error as Error).message}`;
    throw new FeedError('DATA_LOSS', details, details, { cause: error });
  }
  return where === null ? null : { where, step, stepsInEpoch };
}
