import { Counter, Gauge, type Registry } from 'prom-client';
import type { WatchedState } from './telemetry.js';

/** The server's batch memory (--batch-memory), read at scrape time; all 0 until `memory()` returns it. */
export function registerBatchMemorySeries(
  registry: Registry,
  memory: () => WatchedState['batchMemory'] | null,
): void {
  const registers = [registry];
  const stats = () => memory()?.stats();
  new Gauge({
    name: 'voxelfeed_batch_memory_bytes',
    help: 'Bytes of encoded batch buffers by state: in_use (being prepared, waiting, or with gRPC), free (kept for reuse), collecting (dropped, until V8 frees them).',
    labelNames: ['state'],
    registers,
    collect() {
      const now = stats();
      this.set({ state: 'in_use' }, now?.inUseBytes ?? 0);
      this.set({ state: 'free' }, now?.freeBytes ?? 0);
      this.set({ state: 'collecting' }, now ? now.heldBytes - now.inUseBytes - now.freeBytes : 0);
    },
  });
  new Gauge({
    name: 'voxelfeed_batch_memory_capacity_bytes',
    help: 'The bound on encoded batch buffers over all streams (--batch-memory).',
    registers,
    collect() {
      this.set(stats()?.budgetBytes ?? 0);
    },
  });
  new Gauge({
    name: 'voxelfeed_batches_waiting_for_memory',
    help: 'Batches waiting for batch memory before they can be prepared.',
    registers,
    collect() {
      this.set(stats()?.waiting ?? 0);
    },
  });
  new Counter({
    name: 'voxelfeed_batch_memory_collections_total',
    help: 'Garbage collections the server ran to free dropped batch buffers (after 5 s without traffic, or to make room).',
    registers,
    collect() {
      this.reset();
      this.inc(stats()?.collections ?? 0);
    },
  });
}
