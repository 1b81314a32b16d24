import { GATHER_ROWS_WASM_BASE64 } from './gather-rows-wasm.js';
import { WasmKernel } from './wasm-kernel.js';

/** gather-rows.wat's export. */
export interface GatherRowsExports {
  /**
   * heap[to + r*toStride + k] = heap[from + r*stride + k] for r < rows, k < rowBytes (the two ranges must not
   * overlap). Rows of 16 bytes or more move 16 bytes at a time, shorter ones byte by byte.
   */
  readonly gatherRows: (
    from: number,
    stride: number,
    rows: number,
    rowBytes: number,
    to: number,
    toStride: number,
  ) => void;
}

/** This thread's row-gathering kernel (cut-by-slabs.ts). */
export const rowGatherKernel = new WasmKernel<GatherRowsExports>(GATHER_ROWS_WASM_BASE64);
