/**
 * `promise`, or a rejection with `signal`'s reason as soon as it aborts, whichever comes first. A stream that
 * waits for a shared piece of work (an epoch plan other streams also wait for) must not keep its admission
 * slot, nor miss the shutdown's UNAVAILABLE, until that work is done; the work itself goes on for the others.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
