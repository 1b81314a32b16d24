import type { BatchMemory } from '../../server/batches/batch-memory.js';
import { pollUntil } from './poll-until.js';

/** Resolves once batch memory has every buffer back (batches prepared ahead go back as they settle). */
export function allBuffersBack(memory: BatchMemory): Promise<true> {
  return pollUntil(async () => (memory.stats().inUseBytes === 0 ? true : undefined), {
    timeoutMs: 10_000,
    intervalMs: 10,
    describe: () => `every buffer back in batch memory; in use: ${memory.stats().inUseBytes} bytes`,
  });
}
