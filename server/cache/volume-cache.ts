import { LRUCache } from 'lru-cache';
import type { Volume } from '../sampling/types.js';

/** What happened on one `get`, for metrics and tests. */
export type CacheOutcome = 'hit' | 'miss' | 'coalesced';

export interface VolumeCacheEvents<K = string | number> {
  onOutcome?(outcome: CacheOutcome): void;
  onEvict?(bytes: number): void;
  /** A loaded volume larger than the whole cache: served once, never kept. */
  onOversize?(bytes: number): void;
  onLoadStart?(): void;
  onLoadEnd?(ok: boolean): void;
  /** A load failed for good (`isPermanentFailure`): the key fails at once from now on. */
  onFailureKept?(key: K, error: unknown): void;
}

export interface VolumeCacheOptions<K> {
  readonly maxBytes: number;
  readonly load: (key: K) => Promise<Volume>;
  readonly events?: VolumeCacheEvents<K>;
  /**
   * Which load errors to remember: a key whose load failed with one fails at once on every later `get`, with
   * the same error and without loading again (a corrupt file stays corrupt; re-reading it for every batch
   * would only slow the other streams). Default: none, every failed load is tried again.
   */
  readonly isPermanentFailure?: (error: unknown) => boolean;
  /**
   * Loads that read and decode at once; further misses wait their turn, first come first served. A volume
   * being decoded is not yet under the byte bound, so this bounds that memory: about `maxConcurrentLoads`
   * volumes (file and decoded arrays) beside the cache. Default: no limit.
   */
  readonly maxConcurrentLoads?: number;
}

export function volumeBytes(volume: Volume): number {
  return volume.image.byteLength + volume.mask.byteLength;
}

/**
 * Decoded volumes, least recently used first out, bounded by bytes.
 *
 * - A hit returns the cached object itself: nothing is copied.
 * - Concurrent `get`s of one key share one load (the in-flight map), whether or not the result is kept.
 * - A volume larger than `maxBytes` is returned to its callers but not kept.
 * - A failed load is not cached: the next `get` tries again, unless `isPermanentFailure` says the error is
 *   for good; then the key fails at once from now on (`failedKeys`).
 * The byte bound covers kept volumes; loads in flight and oversize volumes live only as long as their callers,
 * and at most `maxConcurrentLoads` loads run at once.
 */
export class VolumeCache<K extends string | number> {
  private readonly lru: LRUCache<K, Volume>;
  private readonly inFlight = new Map<K, Promise<Volume>>();
  private readonly load: (key: K) => Promise<Volume>;
  private readonly events: VolumeCacheEvents<K>;
  private readonly isPermanentFailure: (error: unknown) => boolean;
  private readonly failures = new Map<K, unknown>();
  private readonly failedKeySet = new Set<K>();
  readonly maxBytes: number;
  readonly maxConcurrentLoads: number;
  private loadCount = 0;
  private running = 0;
  private readonly waitingForTurn: Array<() => void> = [];

  constructor(options: VolumeCacheOptions<K>) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
      throw new RangeError(`cache maxBytes must be a positive integer, got ${options.maxBytes}`);
    }
    this.maxBytes = options.maxBytes;
    const concurrency = options.maxConcurrentLoads ?? Number.POSITIVE_INFINITY;
    if (!(concurrency >= 1) || (Number.isFinite(concurrency) && !Number.isSafeInteger(concurrency))) {
      throw new RangeError(`cache maxConcurrentLoads must be an integer >= 1, got ${concurrency}`);
    }
    this.maxConcurrentLoads = concurrency;
    this.load = options.load;
    this.events = options.events ?? {};
    this.isPermanentFailure = options.isPermanentFailure ?? (() => false);
    this.lru = new LRUCache<K, Volume>({
      maxSize: options.maxBytes,
      sizeCalculation: (volume) => Math.max(1, volumeBytes(volume)),
      dispose: (volume, _key, reason) => {
        if (reason === 'evict') this.events.onEvict?.(volumeBytes(volume));
      },
    });
  }

  get(key: K): Promise<Volume> {
    if (this.failures.has(key)) return Promise.reject(this.failures.get(key));
    const cached = this.lru.get(key);
    if (cached !== undefined) {
      this.events.onOutcome?.('hit');
      return Promise.resolve(cached);
    }
    const pending = this.inFlight.get(key);
    if (pending !== undefined) {
      this.events.onOutcome?.('coalesced');
      return pending;
    }
    this.events.onOutcome?.('miss');
    const loading = this.loadAndKeep(key);
    this.inFlight.set(key, loading);
    return loading;
  }

  /** The cached volume without loading or touching recency, if present. */
  peek(key: K): Volume | undefined {
    return this.lru.peek(key);
  }

  has(key: K): boolean {
    return this.lru.has(key);
  }

  delete(key: K): void {
    this.lru.delete(key);
  }

  get bytesHeld(): number {
    return this.lru.calculatedSize;
  }

  get entries(): number {
    return this.lru.size;
  }

  /** The keys whose load failed for good (see `isPermanentFailure`); a live view that only grows. */
  get failedKeys(): ReadonlySet<K> {
    return this.failedKeySet;
  }

  /** Loads asked for and not yet done: running, or waiting for their turn. */
  get loadsInFlight(): number {
    return this.inFlight.size;
  }

  /** Loads reading and decoding now (at most `maxConcurrentLoads`). */
  get loadsRunning(): number {
    return this.running;
  }

  /** Loads waiting for one of the `maxConcurrentLoads` slots; `loadsInFlight` is running plus queued. */
  get loadsQueued(): number {
    return this.waitingForTurn.length;
  }

  /** Loads started since creation (each miss starts one; coalesced gets do not). */
  get loads(): number {
    return this.loadCount;
  }

  private async loadAndKeep(key: K): Promise<Volume> {
    this.loadCount += 1;
    this.events.onLoadStart?.();
    let ok = false;
    // With a free slot the load starts now, inside `get`; otherwise it waits for a finishing load's slot.
    if (this.running < this.maxConcurrentLoads) this.running += 1;
    else await new Promise<void>((resolve) => this.waitingForTurn.push(resolve));
    try {
      const volume = await this.load(key);
      const bytes = volumeBytes(volume);
      if (bytes > this.maxBytes) {
        this.events.onOversize?.(bytes);
      } else {
        this.lru.set(key, volume);
      }
      ok = true;
      return volume;
    } catch (error) {
      // A key is never loaded again once its failure is kept (`get` rejects it first), so it is new here.
      if (this.isPermanentFailure(error)) {
        this.failures.set(key, error);
        this.failedKeySet.add(key);
        this.events.onFailureKept?.(key, error);
      }
      throw error;
    } finally {
      // The slot passes straight to the next waiting load, so no `get` in between can take it as well.
      const next = this.waitingForTurn.shift();
      if (next) next();
      else this.running -= 1;
      this.inFlight.delete(key);
      this.events.onLoadEnd?.(ok);
    }
  }
}
