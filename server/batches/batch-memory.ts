/**
 * Batches of this size or more get buffers of at least ALWAYS_MAPPED_BYTES. glibc's malloc serves a block
 * below its mmap threshold from its heap and seldom gives that memory back to the OS; the threshold rises to
 * the size of any mmapped block freed, up to 32 MiB. So once one 19 MB buffer has been freed, later ones live
 * in the heap, and RSS stays at its peak after they are collected (measured on Node 20: 40 freed buffers of
 * 19 MB left 813 MiB resident, 40 of 33 MiB left 72 MiB). Blocks over 32 MiB are always mmapped and unmapped
 * when freed, and only the pages written count towards RSS: a 33 MiB buffer holding a 19 MB batch costs 19 MB.
 */
const MAPPED_FROM_BYTES = 1024 * 1024;
export const ALWAYS_MAPPED_BYTES = 32 * 1024 * 1024 + 64 * 1024;
/** Room for sample info a few bytes longer when a small buffer is reused. */
const SLACK_BYTES = 4096;
/** The longest wait between collections that free nothing (buffers still referenced), doubling up to it. */
const MAX_COLLECT_INTERVAL_MS = 30_000;
/** How long a stream that holds no batch waits for memory before it gets one beyond the budget. */
const DEFAULT_URGENT_GRACE_MS = 1000;

/** Where assembleBatch takes a batch buffer from, and gives it back to once gRPC is done with it. */
export interface BatchBuffers {
  /** A buffer of at least `bytes`, once memory allows; rejects with the signal's reason if it aborts first. */
  acquire(bytes: number, signal?: AbortSignal): Promise<Buffer>;
  release(buffer: Buffer): void;
}

export interface BatchMemoryOptions {
  /** The most bytes batch buffers hold at once, over all streams (--batch-memory). */
  readonly budgetBytes: number;
  /**
   * After this long without a buffer taken or given back, free buffers are dropped and collected, with
   * those of cancelled calls; 0: kept (default 5000).
   */
  readonly idleReleaseMs?: number;
  /** A full garbage collection, so dropped buffers are freed now; absent: whenever V8 next collects. */
  readonly collectGarbage?: () => void;
  /**
   * The least time between two collections this object runs (default 1000 ms); it doubles, up to 30 s, while
   * collections free none of the buffers they were run for.
   */
  readonly minCollectIntervalMs?: number;
  /**
   * How long a batch of a stream that holds none waits before it gets memory beyond the budget (default
   * 1000 ms). Streams whose clients stopped reading keep their batches; without this, enough of them (a
   * trainer's ranks pausing their train streams to validate) would hold the whole budget and no other stream,
   * the validation stream included, would ever get a batch.
   */
  readonly urgentGraceMs?: number;
}

export interface BatchMemoryStats {
  readonly budgetBytes: number;
  /** Bytes written into every buffer not yet collected: in use, free, and dropped awaiting collection. */
  readonly heldBytes: number;
  readonly inUseBytes: number;
  readonly freeBytes: number;
  /** Batches waiting for memory. */
  readonly waiting: number;
  /** Garbage collections run to free dropped buffers. */
  readonly collections: number;
  /** Batches of streams that held none, given memory beyond the budget after waiting `urgentGraceMs`. */
  readonly beyondBudget: number;
}

type State = 'in-use' | 'free' | 'dropped';

interface Entry {
  /** Bytes written into the buffer so far: what it adds to RSS. */
  resident: number;
  state: State;
}

interface Waiter {
  readonly bytes: number;
  readonly urgent: boolean;
  readonly resolve: (buffer: Buffer) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
  /** For an urgent waiter: when it gets memory beyond the budget. */
  grace: NodeJS.Timeout | null;
}

/**
 * The memory of encoded batches, shared by every stream of the server and bounded in bytes: a batch being
 * prepared, waiting for its client, or handed to gRPC (which sends the buffer itself) holds one buffer, and
 * all buffers together, in use or kept free for reuse, stay within `budgetBytes` however many streams there
 * are and however large their batches. A batch that does not fit waits for one to be released; batches of a
 * stream that holds none go first, and after `urgentGraceMs` get memory beyond the budget, so streams that
 * stopped reading cannot keep the others from starting.
 *
 * Buffers that are dropped (after `idleReleaseMs` without traffic, or to make room for a larger batch) and
 * those abandoned with a cancelled call (gRPC never reports them flushed) count until V8 has collected them,
 * which a FinalizationRegistry reports; `collectGarbage` makes that happen soon, at most every
 * `minCollectIntervalMs`: once when traffic stops, and while a batch waits on memory that only a collection
 * can free.
 */
export class BatchMemory implements BatchBuffers {
  private readonly entries = new Map<number, Entry>();
  private readonly ids = new WeakMap<Buffer, number>();
  /** Free buffers, kept for reuse. Buffers in use are referenced by their users only, so a leak is collected. */
  private readonly free: Buffer[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly finalizer = new FinalizationRegistry<number>((id) => this.collected(id));
  private readonly budgetBytes: number;
  private readonly idleReleaseMs: number;
  private readonly minCollectIntervalMs: number;
  private nextId = 0;
  private heldBytes = 0;
  private inUseBytes = 0;
  private freeBytes = 0;
  private collections = 0;
  private beyondBudget = 0;
  private disposed = false;
  private lastCollectAt = Number.NEGATIVE_INFINITY;
  private idleTimer: NodeJS.Timeout | null = null;
  private collectTimer: NodeJS.Timeout | null = null;
  private collectIntervalMs: number;
  /** Whether a buffer was collected since the last collection this object ran. */
  private collectedSince = true;

  constructor(private readonly options: BatchMemoryOptions) {
    this.budgetBytes = options.budgetBytes;
    this.idleReleaseMs = options.idleReleaseMs ?? 5000;
    this.minCollectIntervalMs = options.minCollectIntervalMs ?? 1000;
    this.collectIntervalMs = this.minCollectIntervalMs;
  }

  /**
   * A buffer of at least `bytes`. `urgent`: for a stream that holds no batch yet; it goes before every
   * waiting batch that is not.
   */
  acquire(bytes: number, signal?: AbortSignal, urgent = false): Promise<Buffer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    this.trafficSeen();
    return new Promise<Buffer>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        urgent,
        resolve,
        signal,
        grace: null,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at === -1) return;
          this.waiters.splice(at, 1);
          clearTimeout(waiter.grace ?? undefined);
          reject(signal?.reason);
          this.serveWaiters();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      const before = urgent ? this.waiters.findIndex((other) => !other.urgent) : -1;
      if (before === -1) this.waiters.push(waiter);
      else this.waiters.splice(before, 0, waiter);
      this.serveWaiters();
      if (urgent && this.waiters.includes(waiter)) {
        waiter.grace = setTimeout(
          () => this.serveBeyondBudget(waiter),
          this.options.urgentGraceMs ?? DEFAULT_URGENT_GRACE_MS,
        );
        waiter.grace.unref();
      }
    });
  }

  /** Gives a buffer back for reuse once nothing reads it any more (gRPC has flushed it, or it was never sent). */
  release(buffer: Buffer): void {
    const id = this.ids.get(buffer);
    const entry = id === undefined ? undefined : this.entries.get(id);
    if (entry === undefined || entry.state !== 'in-use') return;
    entry.state = 'free';
    this.inUseBytes -= entry.resident;
    this.freeBytes += entry.resident;
    this.free.push(buffer);
    this.serveWaiters();
    this.trafficSeen();
  }

  /**
   * A buffer handed to a call that ended without it being flushed (cancelled, failed): gRPC will not give it
   * back, so it is counted until collected and never reused, even if a flush is reported after all.
   */
  abandon(buffer: Buffer): void {
    const id = this.ids.get(buffer);
    const entry = id === undefined ? undefined : this.entries.get(id);
    if (entry === undefined || entry.state !== 'in-use') return;
    entry.state = 'dropped';
    this.inUseBytes -= entry.resident;
    if (this.waiters.length > 0) this.requestCollection();
  }

  stats(): BatchMemoryStats {
    return {
      budgetBytes: this.budgetBytes,
      heldBytes: this.heldBytes,
      inUseBytes: this.inUseBytes,
      freeBytes: this.freeBytes,
      waiting: this.waiters.length,
      collections: this.collections,
      beyondBudget: this.beyondBudget,
    };
  }

  /** Stops the timers (server shutdown); buffers are left to the garbage collector. */
  dispose(): void {
    this.disposed = true;
    for (const timer of [this.idleTimer, this.collectTimer]) clearTimeout(timer ?? undefined);
    this.idleTimer = this.collectTimer = null;
  }

  /**
   * An urgent waiter that waited its grace: memory beyond the budget, a free buffer if one fits, else a new
   * one. Its stream then holds a batch, so this happens at most once per stream that holds none, and the
   * buffer, once released, is reused like any other.
   */
  private serveBeyondBudget(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
    if (at === -1) return;
    const buffer = this.take(waiter.bytes, true);
    if (buffer === null) return;
    this.waiters.splice(at, 1);
    this.beyondBudget += 1;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(buffer);
  }

  private serveWaiters(): void {
    for (;;) {
      const head = this.waiters[0];
      if (head === undefined) break;
      const buffer = this.take(head.bytes);
      if (buffer === null) {
        this.makeRoom(head.bytes);
        return;
      }
      this.waiters.shift();
      clearTimeout(head.grace ?? undefined);
      head.signal?.removeEventListener('abort', head.onAbort);
      head.resolve(buffer);
    }
  }

  /**
   * A free buffer that fits, else a new one, if the budget allows (or `beyondBudget`); null when the batch
   * must wait.
   */
  private take(bytes: number, beyondBudget = false): Buffer | null {
    const best = this.bestFree(bytes);
    if (best !== null) {
      const growth = Math.max(0, bytes - best.entry.resident);
      // A batch larger than the whole budget still gets memory once nothing else holds any.
      const alone = this.heldBytes === best.entry.resident;
      // Reusing a buffer without growing it adds nothing, even while memory given beyond the budget is held.
      if (growth > 0 && this.heldBytes + growth > this.budgetBytes && !alone && !beyondBudget) return null;
      this.free.splice(best.at, 1);
      this.freeBytes -= best.entry.resident;
      best.entry.resident += growth;
      this.heldBytes += growth;
      return this.use(best.buffer, best.entry);
    }
    if (this.heldBytes + bytes > this.budgetBytes && this.heldBytes > 0 && !beyondBudget) return null;
    const capacity =
      bytes >= MAPPED_FROM_BYTES ? Math.max(bytes + SLACK_BYTES, ALWAYS_MAPPED_BYTES) : bytes + SLACK_BYTES;
    // Shared memory, so crop workers cut straight into the batch. Like allocUnsafeSlow it is a block of its
    // own from the same allocator (zeroed by calloc, which leaves mmapped pages untouched until written), so
    // the sizes chosen above and the RSS accounting hold.
    const buffer = Buffer.from(new SharedArrayBuffer(capacity));
    const id = this.nextId++;
    const entry: Entry = { resident: bytes, state: 'in-use' };
    this.entries.set(id, entry);
    this.ids.set(buffer, id);
    // The ArrayBuffer, not the Buffer: views of it (a batch's image) keep the memory alive as long as it.
    this.finalizer.register(buffer.buffer, id);
    this.heldBytes += bytes;
    this.inUseBytes += bytes;
    return buffer;
  }

  private use(buffer: Buffer, entry: Entry): Buffer {
    entry.state = 'in-use';
    this.inUseBytes += entry.resident;
    return buffer;
  }

  /** The free buffer large enough for `bytes` that grows least, the smallest of those; null if none is. */
  private bestFree(bytes: number): { at: number; buffer: Buffer; entry: Entry } | null {
    let best: { at: number; buffer: Buffer; entry: Entry } | null = null;
    let bestGrowth = Number.POSITIVE_INFINITY;
    for (const [at, buffer] of this.free.entries()) {
      if (buffer.length < bytes) continue;
      const entry = this.entries.get(this.ids.get(buffer)!)!;
      const growth = Math.max(0, bytes - entry.resident);
      if (growth < bestGrowth || (growth === bestGrowth && entry.resident < best!.entry.resident)) {
        best = { at, buffer, entry };
        bestGrowth = growth;
      }
    }
    return best;
  }

  /**
   * Drops free buffers the waiting batch cannot use (then others, but the one it would grow) until it would
   * fit once they are collected, and asks for that collection.
   */
  private makeRoom(bytes: number): void {
    const keep = this.bestFree(bytes)?.buffer;
    const need = keep === undefined ? bytes : bytes - this.entries.get(this.ids.get(keep)!)!.resident;
    const fits = () => this.heldBytes - this.droppedBytes() + need <= this.budgetBytes;
    const candidates = [...this.free]
      .filter((buffer) => buffer !== keep)
      .sort((a, b) => Number(a.length >= bytes) - Number(b.length >= bytes));
    for (const buffer of candidates) {
      if (fits()) break;
      this.drop(buffer);
    }
    if (this.droppedBytes() > 0) this.requestCollection();
  }

  private drop(buffer: Buffer): void {
    const at = this.free.indexOf(buffer);
    if (at === -1) return;
    this.free.splice(at, 1);
    const entry = this.entries.get(this.ids.get(buffer)!)!;
    entry.state = 'dropped';
    this.freeBytes -= entry.resident;
  }

  private droppedBytes(): number {
    return this.heldBytes - this.inUseBytes - this.freeBytes;
  }

  /** V8 collected a buffer: one dropped, or one a cancelled call never gave back. */
  private collected(id: number): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    this.collectedSince = true;
    this.heldBytes -= entry.resident;
    if (entry.state === 'in-use') {
      this.inUseBytes -= entry.resident;
    }
    this.serveWaiters();
  }

  private requestCollection(): void {
    const collect = this.options.collectGarbage;
    if (collect === undefined || this.collectTimer !== null || this.disposed) return;
    // Buffers still referenced (a cancelled call's, until gRPC lets go of them) survive a collection: back off.
    this.collectIntervalMs = this.collectedSince
      ? this.minCollectIntervalMs
      : Math.min(2 * this.collectIntervalMs, MAX_COLLECT_INTERVAL_MS);
    const wait = Math.max(0, this.lastCollectAt + this.collectIntervalMs - performance.now());
    // On a timer, never inside a caller's stack. Unlike the idle timer, this one keeps the process alive: a
    // batch may wait on it.
    this.collectTimer = setTimeout(() => {
      this.collectTimer = null;
      this.lastCollectAt = performance.now();
      this.collections += 1;
      this.collectedSince = false;
      collect();
    }, wait);
  }

  /**
   * Restarts the wait for `idleReleaseMs` without traffic. Then the free buffers are dropped, and a collection
   * frees them and any buffers of cancelled calls; buffers still in use (a client that stopped reading) stay.
   */
  private trafficSeen(): void {
    if (this.idleReleaseMs === 0) return;
    if (this.idleTimer !== null) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.waiters.length > 0) return;
      for (const buffer of [...this.free]) this.drop(buffer);
      if (this.heldBytes > this.freeBytes) this.requestCollection();
    }, this.idleReleaseMs);
    this.idleTimer.unref();
  }
}
