import {
  type ClientReadableStream,
  status as grpcStatus,
  type Metadata,
  type StatusObject,
} from '@grpc/grpc-js';
import { type StreamBatchesRequest, VoxelFeedService } from '@voxelfeed/proto';
import type { FeedBatch } from './feed-batch.js';
import type { FeedGrpcClient } from './feed-service.js';
import { type ReadBuffers, type SharedBatchPointer, SharedMemoryBatchReader } from './shm-batch-reader.js';
import { type SharedMemoryProbe, writeSharedMemoryProbe } from './shm-probe.js';

/** The response metadata key of the server's answer: `on`, or `refused: <why>`. */
export const SHARED_MEMORY_METADATA_KEY = 'voxelfeed-shared-memory';

/** How the server answered a request for the same-host path. */
export interface SharedMemoryAnswer {
  /** Whether batches come through shared memory; false: the normal stream (another host, another /dev/shm). */
  readonly used: boolean;
  /** Why not, as the server says; empty when used. */
  readonly reason: string;
}

export interface SharedMemoryCallOptions {
  /** The directory shared with the server (default /dev/shm). */
  readonly directory: string;
  /** Called once per call with the server's answer. */
  readonly onAnswer?: ((answer: SharedMemoryAnswer) => void) | undefined;
  /** Where batches are read to (a new buffer each, or one reused). */
  readonly buffers: ReadBuffers;
  /** Gets the call's reader, to dispose of it when the stream is over (pointers left unread). */
  readonly onReader: (reader: SharedMemoryBatchReader) => void;
}

/**
 * A StreamBatches call that asks for the same-host path: writes a probe file for the server to read back,
 * removes it once the server has answered (or the call has ended), and decodes messages with a
 * SharedMemoryBatchReader: the call yields FeedBatch values (the normal stream, when the server refused) or
 * SharedBatchPointers, whose `read()` gives the same FeedBatch. A probe that cannot be written (no such
 * directory on this host) makes it the normal call.
 */
export function openSharedMemoryBatchCall(
  client: FeedGrpcClient,
  request: StreamBatchesRequest,
  metadata: Metadata,
  metadataFor: () => Metadata,
  options: SharedMemoryCallOptions,
): ClientReadableStream<FeedBatch | SharedBatchPointer> {
  let probe: SharedMemoryProbe;
  try {
    probe = writeSharedMemoryProbe(options.directory);
  } catch (error) {
    // No such directory here (no /dev/shm), or not writable: the normal stream, and the reason.
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    options.onAnswer?.({ used: false, reason: `cannot write a probe in ${options.directory} (${code})` });
    return client.streamBatches(request, metadata);
  }
  const reader = new SharedMemoryBatchReader(client, metadataFor, options.buffers);
  options.onReader(reader);
  const method = VoxelFeedService.streamBatches;
  const call = client.makeServerStreamRequest<StreamBatchesRequest, FeedBatch | SharedBatchPointer>(
    method.path,
    method.requestSerialize,
    (bytes: Buffer) => reader.decode(bytes),
    { ...request, sharedMemory: probe.request },
    metadata,
  );
  call.once('metadata', (answer: Metadata) => {
    probe.remove();
    const value = String(
      answer.get(SHARED_MEMORY_METADATA_KEY)[0] ?? 'refused: the server does not offer it',
    );
    options.onAnswer?.(
      value === 'on' ? { used: true, reason: '' } : { used: false, reason: value.replace(/^refused: /, '') },
    );
  });
  call.once('status', (status: StatusObject) => {
    probe.remove();
    reader.callOver(status.code === grpcStatus.OK);
  });
  return call;
}
