import { GATHER_ROWS_WASM_BASE64 } from './gather-rows-wasm.js';

/** WebAssembly memory grows in pages of 64 KiB. */
const PAGE_BYTES = 65_536;

/** The row-gathering kernel (gather-rows.wat) with memory for at least the bytes asked for. */
export interface RowGatherKernel {
  /** The kernel's memory as bytes; valid until the next `reserveRowGather`, which may grow it. */
  readonly heap: Uint8Array;
  /**
   * heap[to + r*rowBytes + k] = heap[from + r*stride + k] for r < rows, k < rowBytes (rowBytes >= 16; the
   * two ranges must not overlap).
   */
  readonly gatherRows: (from: number, stride: number, rows: number, rowBytes: number, to: number) => void;
}

let kernel: { memory: WebAssembly.Memory; gatherRows: RowGatherKernel['gatherRows'] } | undefined;
let view: RowGatherKernel | undefined;

/**
 * This thread's instance of the kernel, its memory grown to hold `bytes`. Cutting is synchronous, so one
 * instance per thread (the main thread, each crop worker) serves every cut; its memory stays at the largest
 * size asked for, as scratch buffers do.
 */
export function reserveRowGather(bytes: number): RowGatherKernel {
  if (kernel === undefined) {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const module = new WebAssembly.Module(Buffer.from(GATHER_ROWS_WASM_BASE64, 'base64'));
    const instance = new WebAssembly.Instance(module, { cut: { memory } });
    kernel = { memory, gatherRows: instance.exports.gatherRows as RowGatherKernel['gatherRows'] };
  }
  const { memory, gatherRows } = kernel;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
    view = undefined;
  }
  // Growing detaches the old buffer: views are made again after it.
  view ??= { heap: new Uint8Array(memory.buffer), gatherRows };
  return view;
}
