import { copyBytes } from './bulk-bytes.js';
import { NORMAL_QUANTILES } from './gaussian-noise.js';
import { INTENSITY_WASM_BASE64 } from './intensity-wasm.js';
import { WasmKernel } from './wasm-kernel.js';

/** intensity.wat's exports (addresses in the kernel's memory). */
interface IntensityExports {
  readonly mapBytes: (from: number, count: number, table: number, to: number) => void;
  readonly mapFloats: (from: number, count: number, table: number, to: number) => void;
  readonly noisy: (
    from: number,
    count: number,
    table: number,
    quantiles: number,
    std: number,
    seed: number,
    to: number,
    bytes: number,
  ) => void;
}

const kernel = new WasmKernel<IntensityExports>(INTENSITY_WASM_BASE64);

/**
 * The kernel's memory: NORMAL_QUANTILES (written once per thread), then the crop's table of 256 entries, then
 * the crop's voxels, then what the kernel writes. Values go in little endian, as WebAssembly reads them.
 */
const QUANTILES_AT = 0;
const TABLE_AT = QUANTILES_AT + 4 * NORMAL_QUANTILES.length;
const SOURCE_AT = TABLE_AT + 4 * 256;
let quantilesWritten = false;

/** The kernel with room for `voxels` in and `outBytes` out, and its quantiles written. */
function reserve(voxels: number, outBytes: number) {
  const reserved = kernel.reserve(SOURCE_AT + voxels + outBytes);
  if (!quantilesWritten) {
    const view = new DataView(reserved.heap.buffer, QUANTILES_AT, 4 * NORMAL_QUANTILES.length);
    for (let at = 0; at < NORMAL_QUANTILES.length; at++) view.setFloat32(4 * at, NORMAL_QUANTILES[at]!, true);
    quantilesWritten = true;
  }
  return reserved;
}

function writeFloatTable(heap: Uint8Array, table: Float32Array): void {
  const view = new DataView(heap.buffer, TABLE_AT, 4 * 256);
  for (let v = 0; v < 256; v++) view.setFloat32(4 * v, table[v]!, true);
}

/** out[i] = table[source[i]] (a table of 256 bytes). */
export function mapBytesByTable(source: Uint8Array, table: Uint8Array, out: Uint8Array): void {
  const n = source.length;
  const { heap, exports } = reserve(n, n);
  copyBytes(heap, table.subarray(0, 256), TABLE_AT);
  copyBytes(heap, source, SOURCE_AT);
  exports.mapBytes(SOURCE_AT, n, TABLE_AT, SOURCE_AT + n);
  copyBytes(out, heap.subarray(SOURCE_AT + n, SOURCE_AT + 2 * n), 0);
}

/** out[i] = table[source[i]] (a table of 256 floats). */
export function mapFloatsByTable(source: Uint8Array, table: Float32Array, out: Float32Array): void {
  const n = source.length;
  const { heap, exports } = reserve(n, 4 * n);
  writeFloatTable(heap, table);
  copyBytes(heap, source, SOURCE_AT);
  exports.mapFloats(SOURCE_AT, n, TABLE_AT, SOURCE_AT + n);
  copyBytes(bytesOf(out), heap.subarray(SOURCE_AT + n, SOURCE_AT + 5 * n), 0);
}

/** out[i] = float32(table[source[i]] + float32(std * z_i)), z_i gaussian-noise.ts's noise of voxel i. */
export function noisyFloatsByTable(
  source: Uint8Array,
  table: Float32Array,
  std: number,
  seed: number,
  out: Float32Array,
): void {
  const n = source.length;
  const { heap, exports } = reserve(n, 4 * n);
  writeFloatTable(heap, table);
  copyBytes(heap, source, SOURCE_AT);
  exports.noisy(SOURCE_AT, n, TABLE_AT, QUANTILES_AT, std, seed, SOURCE_AT + n, 0);
  copyBytes(bytesOf(out), heap.subarray(SOURCE_AT + n, SOURCE_AT + 5 * n), 0);
}

/** out[i] = float32(that noisy value * 255) as a Uint8ClampedArray stores it (NaN 0, half to even, 0..255). */
export function noisyBytesByTable(
  source: Uint8Array,
  table: Float32Array,
  std: number,
  seed: number,
  out: Uint8Array,
): void {
  const n = source.length;
  const { heap, exports } = reserve(n, n);
  writeFloatTable(heap, table);
  copyBytes(heap, source, SOURCE_AT);
  exports.noisy(SOURCE_AT, n, TABLE_AT, QUANTILES_AT, std, seed, SOURCE_AT + n, 1);
  copyBytes(out, heap.subarray(SOURCE_AT + n, SOURCE_AT + 2 * n), 0);
}

function bytesOf(floats: Float32Array): Uint8Array {
  return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
}
