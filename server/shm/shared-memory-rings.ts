import { removeStaleRings } from './remove-stale-rings.js';
import type { SharedMemoryRing } from './shared-memory-ring.js';

/**
 * How long a stream that ended normally keeps its file for a client that has not released any batch yet (it
 * may not have opened the file when the last batch was written). A client gone for longer finds it removed.
 */
export const DEFAULT_RETIRED_RING_GRACE_MS = 60_000;

/**
 * The server's open same-host rings by file path, which ReleaseSharedBatches names. A ring leaves when its
 * stream is cancelled or fails, or, after its stream ended normally, once the client has opened the file
 * (its first release says so: its descriptor or mapping outlives the name), or after the grace; `closeAll`
 * removes every file at shutdown.
 */
export class SharedMemoryRings {
  private readonly rings = new Map<string, SharedMemoryRing>();
  private readonly retiring = new Map<SharedMemoryRing, NodeJS.Timeout>();
  /** Directories already swept for files of servers that died. */
  private readonly swept = new Set<string>();

  constructor(private readonly retiredGraceMs = DEFAULT_RETIRED_RING_GRACE_MS) {}

  /**
   * A new stream's ring. The first in a directory also removes files there that servers which died (killed,
   * out of memory) left behind: nothing else would.
   */
  add(ring: SharedMemoryRing): void {
    this.rings.set(ring.path, ring);
    if (!this.swept.has(ring.directory)) {
      this.swept.add(ring.directory);
      void removeStaleRings(ring.directory);
    }
  }

  /** Releases batches of the ring at `path`; a ring that is gone (its stream over) has nothing to release. */
  release(path: string, ids: readonly bigint[]): void {
    const ring = this.rings.get(path);
    if (ring === undefined) return;
    ring.release(ids);
    if (this.retiring.has(ring) && ring.opened) void this.remove(ring);
  }

  /** The stream ended normally: the file stays until the client has opened it, at most the grace. */
  retire(ring: SharedMemoryRing): void {
    if (ring.opened || ring.heldBatches === 0) {
      void this.remove(ring);
      return;
    }
    const timer = setTimeout(() => void this.remove(ring), this.retiredGraceMs);
    timer.unref();
    this.retiring.set(ring, timer);
  }

  /** The stream was cancelled or failed: its file goes now. */
  async remove(ring: SharedMemoryRing): Promise<void> {
    clearTimeout(this.retiring.get(ring));
    this.retiring.delete(ring);
    this.rings.delete(ring.path);
    await ring.close();
  }

  get size(): number {
    return this.rings.size;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.rings.values()].map((ring) => this.remove(ring)));
  }
}
