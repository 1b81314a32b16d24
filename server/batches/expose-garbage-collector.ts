import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * V8's full garbage collection as a function, for the server's batch memory (batch-memory.ts): buffers it
 * drops are freed only when V8 next collects, and a server without traffic allocates nothing that would make
 * V8 collect, so its memory would stay at its last peak. `--expose-gc` set at run time makes `gc` available
 * in new contexts (Jest's leak detector does the same); with `node --expose-gc` the global one is used.
 */
export function exposeGarbageCollector(): () => void {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return () => global();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('V8 did not expose gc after --expose-gc');
  return () => gc();
}
