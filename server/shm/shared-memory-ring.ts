import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { SharedMemoryBatch } from '@voxelfeed/proto';

/** Slots are sized for the stream's first batch plus this, so batches whose fields grow a little still fit. */
const SLOT_SLACK_BYTES = 64 * 1024;
/**
 * Each batch starts where its image lies on a boundary of this many bytes, so clients that map the file see
 * float32 images aligned (numpy copies a misaligned one) and rows on cache lines.
 */
const IMAGE_ALIGN_BYTES = 64;
const SLOT_ALIGN_BYTES = 4096;

/** A batch message and where its tensors lie in it (byte ranges of `message`). */
export interface RingBatch {
  readonly message: Uint8Array;
  readonly imageStart: number;
  readonly imageLength: number;
  readonly maskStart: number;
  readonly maskLength: number;
}

/**
 * One same-host stream's file of batches: `slots` slots, each holding one batch message until the client
 * releases it, so the file holds at most `slots` batches (the service limit `maxUnflushedBatches`, the batches
 * the normal stream may hold in gRPC's buffers). Slots are sized for the first batch; a batch that does not
 * fit waits until every slot is released and the slots grow. The file is created with mode 0600 under
 * `directory` (the client's probe showed it sees that directory), named after this process so that files of
 * a server that died can be told apart.
 */
export class SharedMemoryRing {
  readonly path: string;
  readonly directory: string;
  private file: FileHandle | null = null;
  private slotBytes = 0;
  private nextId = 0n;
  /** Slot of each batch the client has not released. */
  private readonly held = new Map<bigint, number>();
  private readonly freeSlots: number[];
  private wakeUp: (() => void) | null = null;
  private closed = false;
  private releasedAny = false;

  constructor(
    directory: string,
    private readonly slots: number,
    streamId: string,
  ) {
    this.directory = directory;
    this.path = path.join(
      directory,
      `voxelfeed-ring-${process.pid}-${streamId}-${randomBytes(8).toString('hex')}`,
    );
    this.freeSlots = Array.from({ length: slots }, (_, slot) => slot);
  }

  /** Bytes the file takes (its slots): at most `slots` times the largest batch plus slack. */
  get fileBytes(): number {
    return this.slots * this.slotBytes;
  }

  /**
   * Whether the client has released a batch: it has opened the file then, and reads the rest through its
   * own descriptor or mapping, which outlive the file's name.
   */
  get opened(): boolean {
    return this.releasedAny;
  }

  /** Batches written and not yet released. */
  get heldBatches(): number {
    return this.held.size;
  }

  /**
   * Writes one batch into a free slot once there is one (waiting for releases), and says where it lies.
   * Rejects with the signal's reason if it aborts while waiting; a write under way is finished first.
   */
  async put(batch: RingBatch, signal: AbortSignal): Promise<Omit<SharedMemoryBatch, 'path'>> {
    if (this.closed) throw new Error('the shared-memory ring was closed');
    const bytes = batch.message.byteLength;
    const lead = (IMAGE_ALIGN_BYTES - (batch.imageStart % IMAGE_ALIGN_BYTES)) % IMAGE_ALIGN_BYTES;
    if (lead + bytes > this.slotBytes) {
      await this.until(() => this.held.size === 0, signal);
      await this.resize(roundUp(IMAGE_ALIGN_BYTES + bytes + SLOT_SLACK_BYTES, SLOT_ALIGN_BYTES));
    }
    await this.until(() => this.freeSlots.length > 0, signal);
    const file = this.file;
    // Closed while waiting (the server stopping): the stream is over.
    if (this.closed || file === null) throw new Error('the shared-memory ring was closed');
    const slot = this.freeSlots.shift()!;
    const offset = slot * this.slotBytes + lead;
    const id = this.nextId++;
    this.held.set(id, slot);
    await file.write(batch.message, 0, bytes, offset);
    return {
      id,
      offset: BigInt(offset),
      length: BigInt(bytes),
      imageOffset: BigInt(offset + batch.imageStart),
      imageLength: BigInt(batch.imageLength),
      maskOffset: BigInt(offset + batch.maskStart),
      maskLength: BigInt(batch.maskLength),
    };
  }

  /** The client is done with these batches; ids it does not hold (released twice, unknown) are ignored. */
  release(ids: readonly bigint[]): void {
    for (const id of ids) {
      const slot = this.held.get(id);
      if (slot === undefined) continue;
      this.held.delete(id);
      this.freeSlots.push(slot);
      this.releasedAny = true;
    }
    this.wake();
  }

  /** Resolves when every batch written has been released, or when `signal` aborts or the ring closes. */
  async allReleased(signal: AbortSignal): Promise<void> {
    try {
      await this.until(() => this.held.size === 0, signal);
    } catch {
      // Aborted: the caller decides what happens to the file.
    }
  }

  /** Closes and removes the file; mappings and descriptors clients hold stay readable. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    const file = this.file;
    this.file = null;
    await file?.close().catch(() => {});
    await rm(this.path, { force: true });
  }

  private async resize(slotBytes: number): Promise<void> {
    if (this.file === null) {
      this.file = await open(this.path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
    }
    this.slotBytes = slotBytes;
    await this.file.truncate(this.slots * slotBytes);
  }

  private async until(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready()) {
      signal.throwIfAborted();
      if (this.closed) throw new Error('the shared-memory ring was closed');
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.wakeUp = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  private wake(): void {
    const resolve = this.wakeUp;
    this.wakeUp = null;
    resolve?.();
  }
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}
