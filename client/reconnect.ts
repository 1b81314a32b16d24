import { FeedError } from './feed-error.js';

/** How a feed client retries a call that failed for want of a connection (`FeedClientOptions.reconnect`). */
export interface ReconnectPolicy {
  /** Cap of the first wait; each further attempt doubles the cap. */
  readonly initialBackoffMs: number;
  /** The cap never grows past this. */
  readonly maxBackoffMs: number;
  /** Consecutive failed attempts (calls that delivered nothing) before giving up. */
  readonly maxAttempts: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  initialBackoffMs: 100,
  maxBackoffMs: 5000,
  maxAttempts: 20,
};

/**
 * The wait before attempt `failures + 1`, after `failures` consecutive failed attempts (>= 1): "full jitter",
 * uniform in [0, min(max, initial * 2^(failures - 1))). Spreading the waits keeps a hundred trainer ranks
 * that lost the same server from reconnecting in lockstep. `random` is in [0, 1), `Math.random` in
 * production.
 */
export function backoffDelayMs(failures: number, policy: ReconnectPolicy, random: () => number): number {
  const cap = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * cap);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The error a call or stream ends with once reconnecting has failed `attempts` times in a row: UNAVAILABLE,
 * naming the method, the addresses, the time since `startedMs` (`performance.now()`) and the last error, with
 * `context` inside the parentheses after the seconds (e.g. where a stream would resume).
 */
export function giveUpError(
  method: string,
  where: string,
  attempts: number,
  startedMs: number,
  last: FeedError,
  context = '',
): FeedError {
  const seconds = ((performance.now() - startedMs) / 1000).toFixed(1);
  return new FeedError(
    'UNAVAILABLE',
    last.details,
    `${method} gave up on ${where} after ${attempts} failed attempts in a row (${seconds} s${context}); last error ${last.code}: ${last.details}. Check that the server runs and that the client's TLS settings match the server's (a failed TLS handshake is UNAVAILABLE too), or raise reconnect.maxAttempts / maxBackoffMs`,
    { cause: last },
  );
}
