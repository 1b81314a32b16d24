import { setTimeout as delay } from 'node:timers/promises';

/**
 * Calls `probe` every `intervalMs` until it returns something other than undefined, and resolves with that.
 * Rejects after `timeoutMs` with `describe()`: what was awaited and what was last seen, for the failure message.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = performance.now() + options.timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const cause = lastError === null ? '' : `\nlast error: ${String(lastError)}`;
      throw new Error(`gave up after ${options.timeoutMs} ms waiting for ${options.describe()}${cause}`);
    }
    await delay(options.intervalMs ?? 200);
  }
}
