/** WebAssembly memory grows in pages of 64 KiB. */
const PAGE_BYTES = 65_536;

/** A kernel's memory as bytes and its exported functions; valid until the next `reserve`, which may grow it. */
export interface KernelMemory<Exports> {
  readonly heap: Uint8Array;
  readonly exports: Exports;
}

/**
 * One small WebAssembly kernel (a module whose only import is its memory, `kernel.memory`) in this thread:
 * compiled and instantiated on first use, its memory grown to the most bytes asked for and kept, as a
 * scratch buffer is. Kernels run synchronously, so one instance per thread (the main thread, each crop
 * worker) serves every call. The bytes come from the generated `*-wasm.ts` modules (scripts/gen-wasm.ts).
 */
export class WasmKernel<Exports> {
  private instance: { memory: WebAssembly.Memory; exports: Exports } | undefined;
  private view: KernelMemory<Exports> | undefined;

  constructor(private readonly base64: string) {}

  /** The kernel, with memory for at least `bytes`. */
  reserve(bytes: number): KernelMemory<Exports> {
    if (this.instance === undefined) {
      const memory = new WebAssembly.Memory({ initial: 1 });
      const module = new WebAssembly.Module(Buffer.from(this.base64, 'base64'));
      const instance = new WebAssembly.Instance(module, { kernel: { memory } });
      this.instance = { memory, exports: instance.exports as Exports };
    }
    const { memory, exports } = this.instance;
    if (memory.buffer.byteLength < bytes) {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
      // Growing detaches the old buffer: the view is made again after it.
      this.view = undefined;
    }
    this.view ??= { heap: new Uint8Array(memory.buffer), exports };
    return this.view;
  }
}
