/**
 * uint8 voxels to float32 = v / 255 as little-endian bytes (the wire layout of DTYPE_FLOAT32).
 * A 256-entry table turns the conversion into one lookup per voxel.
 */

const FLOAT_OF_BYTE = (() => {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 255;
  return table;
})();

/**
 * Typed arrays use the platform's byte order; the wire wants little endian. A big-endian host, which Node's
 * supported platforms do not include today, takes the DataView path: slow but correct.
 */
const PLATFORM_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Writes float32 v / 255, little endian, for every voxel of `bytes` into `target` (4 bytes per voxel), without
 * allocating. Fastest when `target` starts on a 4-byte boundary (a Float32Array view over it).
 */
export function writeFloat32LE(bytes: Uint8Array, target: Uint8Array): void {
  const n = bytes.length;
  if (target.length < n * 4) {
    throw new RangeError(`writeFloat32LE: ${n} voxels need ${n * 4} bytes, the target has ${target.length}`);
  }
  if (PLATFORM_IS_LITTLE_ENDIAN && target.byteOffset % 4 === 0) {
    const floats = new Float32Array(target.buffer, target.byteOffset, n);
    for (let i = 0; i < n; i++) floats[i] = FLOAT_OF_BYTE[bytes[i]!]!;
    return;
  }
  const view = new DataView(target.buffer, target.byteOffset, n * 4);
  for (let i = 0; i < n; i++) view.setFloat32(i * 4, FLOAT_OF_BYTE[bytes[i]!]!, true);
}
