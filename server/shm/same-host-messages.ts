import { Metadata } from '@grpc/grpc-js';
import type { SharedMemoryRequest } from '@voxelfeed/proto';
import type { Logger } from '../log/logger.js';
import { carryInSharedMemory, type HeldMessage } from './carry-in-shared-memory.js';
import { SharedMemoryRing } from './shared-memory-ring.js';
import type { SharedMemoryRings } from './shared-memory-rings.js';
import { verifySharedMemoryProbe } from './verify-shared-memory-probe.js';

/** The response metadata key that answers a request for the same-host path: `on`, or `refused: <why>`. */
export const SHARED_MEMORY_METADATA_KEY = 'voxelfeed-shared-memory';

export interface SameHostDeps {
  readonly rings: SharedMemoryRings;
  /** Batches a stream's file holds at most (the service limit maxUnflushedBatches). */
  readonly slots: number;
  readonly streamId: string;
  readonly log: Logger;
  /** Sends the call's response metadata (before its first message). */
  readonly sendMetadata: (metadata: Metadata) => void;
}

/**
 * The messages of a stream that asked for the same-host path: if the client's probe reads back, batches go
 * through a file of shared memory (carryInSharedMemory) and the metadata says `on`; otherwise the stream is
 * the normal one and the metadata says why not, so a trainer on another host still gets its batches.
 */
export async function* sameHostMessages(
  probe: SharedMemoryRequest,
  messages: AsyncIterable<HeldMessage>,
  signal: AbortSignal,
  deps: SameHostDeps,
): AsyncGenerator<HeldMessage, void, undefined> {
  const outcome = await verifySharedMemoryProbe(probe);
  const metadata = new Metadata();
  if (!outcome.ok) {
    deps.log.info({ reason: outcome.reason }, 'same-host path refused: streaming normally');
    metadata.set(SHARED_MEMORY_METADATA_KEY, `refused: ${outcome.reason}`);
    deps.sendMetadata(metadata);
    yield* messages;
    return;
  }
  metadata.set(SHARED_MEMORY_METADATA_KEY, 'on');
  deps.sendMetadata(metadata);
  const ring = new SharedMemoryRing(outcome.directory, deps.slots, deps.streamId);
  yield* carryInSharedMemory(messages, ring, deps.rings, signal);
}
