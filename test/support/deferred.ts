/** A promise and the function that resolves it, for one part of a test to wait on another. */
export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

export function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * Follows a stream's prefetch queue through its `onQueueDepth` option; `full()` resolves once the queue holds
 * `capacity` batches (at once if it does now), so a test can cut a stream with batches queued.
 */
export function queueDepthWatcher(capacity: number): {
  onQueueDepth(depth: number): void;
  full(): Promise<void>;
} {
  let depth = 0;
  let waiting: Deferred | null = null;
  return {
    onQueueDepth: (now) => {
      depth = now;
      if (depth >= capacity) waiting?.resolve();
    },
    full: () => {
      if (depth >= capacity) return Promise.resolve();
      waiting ??= deferred();
      return waiting.promise;
    },
  };
}
