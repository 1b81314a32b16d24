/**
 * The last few batches the browser asked for, by key, so scrolling a batch's slices fetches it once. Holds
 * the promise, so concurrent asks share one fetch; a failed fetch is dropped so the next ask tries again.
 */
export class BatchCache<T> {
  readonly #entries = new Map<string, Promise<T>>();
  readonly #capacity: number;
  readonly #fetch: (key: string) => Promise<T>;

  constructor(capacity: number, fetch: (key: string) => Promise<T>) {
    this.#capacity = capacity;
    this.#fetch = fetch;
  }

  get(key: string): Promise<T> {
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      // Most recently used last: a Map keeps insertion order.
      this.#entries.delete(key);
      this.#entries.set(key, cached);
      return cached;
    }
    const fetched = this.#fetch(key);
    this.#entries.set(key, fetched);
    fetched.catch(() => {
      if (this.#entries.get(key) === fetched) this.#entries.delete(key);
    });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) break;
      this.#entries.delete(oldest);
    }
    return fetched;
  }
}
