/**
 * Tells every open stream at once that the server's shutdown grace is over. Each stream subscribes while it
 * runs and unsubscribes when it ends, so the set holds one entry per open stream, however many there are.
 *
 * An AbortSignal shared by all streams did this before, but Node warns (MaxListenersExceededWarning, written
 * to stderr among the JSON log lines) once an event target has more than 10 listeners: 11 open streams.
 * Raising that limit would also hide a real leak; a plain set has no limit and its size is checkable.
 */
export class DrainNotice {
  private readonly listeners = new Set<() => void>();
  private started = false;

  /** Whether draining has started. */
  get draining(): boolean {
    return this.started;
  }

  /** Streams subscribed now (a test hook: equals the streams still running). */
  get subscribers(): number {
    return this.listeners.size;
  }

  /**
   * Calls `listener` once when draining starts, or at once if it already has. Returns the function that
   * unsubscribes; calling it again, or after draining, does nothing.
   */
  subscribe(listener: () => void): () => void {
    if (this.started) {
      listener();
      return () => {};
    }
    // A wrapper per subscription, so that one listener function subscribed twice is two entries.
    const entry = () => listener();
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Starts draining: every subscribed listener runs once, in subscription order. Later calls do nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const listeners = [...this.listeners];
    this.listeners.clear();
    for (const listener of listeners) listener();
  }
}
