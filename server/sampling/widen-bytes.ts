import { WasmKernel } from './wasm-kernel.js';
import { WIDEN_BYTES_WASM_BASE64 } from './widen-bytes-wasm.js';

/** widen-bytes.wat's export. */
export interface WidenBytesExports {
  /** For i < count: float32 at heap[to + 4i] = heap[from + i] / 255, little endian (ranges must not overlap). */
  readonly widenBytes: (from: number, count: number, to: number) => void;
}

/** This thread's byte-to-float32 kernel (float-tensor.ts). */
export const widenBytesKernel = new WasmKernel<WidenBytesExports>(WIDEN_BYTES_WASM_BASE64);
