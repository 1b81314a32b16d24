import { LRUCache } from 'lru-cache';
import type { Volume } from '../sampling/types.js';

/** What happened on one `get`, for metrics and tests. */
export type CacheOutcome = 'hit' | 'miss' | 'coalesced';

export interface VolumeCacheEvents {
  onOutcome?(outcome: CacheOutcome): void;
  onEvict?(bytes: number): void;
  /** A loaded volume larger than the whole cache: served once, never kept. */
  onOversize?(bytes: number): void;
  onLoadStart?(): void;
  onLoadEnd?(ok: boolean): void;
}

export interface VolumeCacheOptions<K> {
  readonly maxBytes: number;
  readonly load: (key: K) => Promise<Volume>;
  readonly events?: VolumeCacheEvents;
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
 * - A failed load is not cached: the next `get` tries again (callers decide what a bad file means).
 * The byte bound covers kept volumes; loads in flight and oversize volumes live only as long as their callers.
 */
export class VolumeCache<K extends string | number> {
  private readonly lru: LRUCache<K, Volume>;
  private readonly inFlight = new Map<K, Promise<Volume>>();
  private readonly load: (key: K) => Promise<Volume>;
  private readonly events: VolumeCacheEvents;
  readonly maxBytes: number;
  private loadCount = 0;

  constructor(options: VolumeCacheOptions<K>) {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes < 1) {
      throw new RangeError(`cache maxBytes must be a positive integer, got ${options.maxBytes}`);
    }
    this.maxBytes = options.maxBytes;
    this.load = options.load;
    this.events = options.events ?? {};
    this.lru = new LRUCache<K, Volume>({
      maxSize: options.maxBytes,
      sizeCalculation: (volume) => Math.max(1, volumeBytes(volume)),
      dispose: (volume, _key, reason) => {
        if (reason === 'evict') this.events.onEvict?.(volumeBytes(volume));
      },
    });
  }

  get(key: K): Promise<Volume> {
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

  get loadsInFlight(): number {
    return this.inFlight.size;
  }

  /** Loads started since creation (each miss starts one; coalesced gets do not). */
  get loads(): number {
    return this.loadCount;
  }

  private async loadAndKeep(key: K): Promise<Volume> {
    this.loadCount += 1;
    this.events.onLoadStart?.();
    let ok = false;
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
    } finally {
      this.inFlight.delete(key);
      this.events.onLoadEnd?.(ok);
    }
  }
}
