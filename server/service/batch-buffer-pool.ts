/**
 * Reuses the large buffers of encoded batches within one stream. A batch buffer is garbage as soon as gRPC has
 * copied it into its framed message, and allocating a fresh multi-MiB buffer per batch makes V8 run full
 * collections for the external memory. Buffers come from `allocUnsafeSlow`, so each owns its ArrayBuffer and
 * starts at offset 0 (the tensor layout relies on that for aligned float32 views).
 */
export class BatchBufferPool {
  private readonly free: Buffer[] = [];

  constructor(private readonly maxFree: number) {}

  acquire(bytes: number): Buffer {
    const at = this.free.findIndex((buffer) => buffer.length >= bytes);
    if (at !== -1) return this.free.splice(at, 1)[0]!;
    // Some slack, so batches whose sample info is a few bytes longer still fit the same buffer.
    return Buffer.allocUnsafeSlow(bytes + 4096);
  }

  release(buffer: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(buffer);
  }
}
