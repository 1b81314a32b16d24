import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';

/** What a stretch of work allocated and what collecting it cost, as AllocationMeter measures it. */
export interface AllocationReading {
  /** Bytes allocated on V8's heap (objects, arrays, closures, promises, typed-array headers). */
  readonly heapBytes: number;
  /** Bytes of ArrayBuffer backing stores allocated (Buffers, typed arrays' memory). */
  readonly externalBytes: number;
  readonly gcCount: number;
  /** Main-thread time in garbage collection pauses, ms. */
  readonly gcMs: number;
  /** CPU time of the whole process (every thread), ms. */
  readonly cpuMs: number;
  readonly wallMs: number;
}

/**
 * Counts the bytes a stretch of work allocates, from V8's own accounting: a heap's used size grows only by
 * allocation and shrinks only in a collection, so what was allocated is the growth from start to end plus
 * what every collection in between freed, which GCProfiler reports (used size before and after each). The
 * same holds for external memory once ArrayBuffer backing stores are freed inside the collection's pause
 * (`--no-concurrent-array-buffer-sweeping`, set here for the whole process): otherwise a background thread
 * frees them after the collection reports its figures, and the frees go uncounted. `calibrate()` checks both
 * against allocations of known size.
 */
export class AllocationMeter {
  constructor() {
    setFlagsFromString('--no-concurrent-array-buffer-sweeping');
  }

  async measure(work: () => Promise<void>): Promise<AllocationReading> {
    const profiler = new GCProfiler();
    const before = getHeapStatistics();
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    profiler.start();
    await work();
    const after = getHeapStatistics();
    const cpu = process.cpuUsage(cpuBefore);
    const wallMs = performance.now() - started;
    const { statistics } = profiler.stop();
    let heapFreed = 0;
    let externalFreed = 0;
    let gcUs = 0;
    for (const gc of statistics) {
      heapFreed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
      externalFreed += gc.beforeGC.heapStatistics.externalMemory - gc.afterGC.heapStatistics.externalMemory;
      gcUs += gc.cost;
    }
    return {
      heapBytes: after.used_heap_size - before.used_heap_size + heapFreed,
      externalBytes: after.external_memory - before.external_memory + externalFreed,
      gcCount: statistics.length,
      gcMs: gcUs / 1000,
      cpuMs: (cpu.user + cpu.system) / 1000,
      wallMs,
    };
  }

  /**
   * The meter's error on known allocations: 200,000 arrays of 8 small integers (112 bytes each on a 64-bit
   * V8 with pointer compression off: a 32-byte JSArray and an 80-byte FixedArray) and 64 Buffers of 1 MiB,
   * all garbage at once, so collections run in between. Returns measured / expected for each.
   */
  async calibrate(): Promise<{ heapRatio: number; externalRatio: number }> {
    let sink: unknown;
    const arrays = 200_000;
    const heap = await this.measure(async () => {
      for (let i = 0; i < arrays; i++) sink = [i, i, i, i, i, i, i, i];
    });
    const buffers = 64;
    const external = await this.measure(async () => {
      for (let i = 0; i < buffers; i++) sink = Buffer.allocUnsafeSlow(1 << 20);
    });
    void sink;
    return {
      heapRatio: heap.heapBytes / (arrays * 112),
      externalRatio: external.externalBytes / (buffers * (1 << 20)),
    };
  }
}
