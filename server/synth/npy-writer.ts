import { VoxelfeedError } from '../errors.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREAMBLE_BYTES = 10; // magic (6) + version (2) + header length (2)
const ALIGN = 64; // numpy >= 1.x pads so the data starts on a 64-byte boundary
const MAX_HEADER_BYTES = 0xffff; // version 1.0 stores the header length in 16 bits

// Typed arrays use the host's byte order; the descr we write says little-endian.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** numpy's repr of a shape tuple: `()`, `(5,)`, `(0, 4)`. */
function shapeTuple(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/**
 * A `.npy` file (format version 1.0) holding `values` in C order with the given shape, as `<f4` for a
 * Float32Array and `<f8` for a Float64Array. The header dict is written exactly as numpy writes it, padded
 * with spaces and ended by a newline so the data starts at a multiple of 64 bytes.
 */
export function encodeNpy(values: Float32Array | Float64Array, shape: readonly number[]): Buffer {
  for (const size of shape) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new VoxelfeedError(
        'INVALID_ARGUMENT',
        `npy shape ${shapeTuple(shape)}: every size must be an integer >= 0`,
      );
    }
  }
  const count = shape.reduce((product, size) => product * size, 1);
  if (count !== values.length) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `npy shape ${shapeTuple(shape)} needs ${count} values but ${values.length} were given; pass a matching shape`,
    );
  }
  const descr = values instanceof Float32Array ? '<f4' : '<f8';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  const unpadded = PREAMBLE_BYTES + dict.length + 1; // + the closing newline
  const padding = (ALIGN - (unpadded % ALIGN)) % ALIGN;
  const header = dict + ' '.repeat(padding) + '\n';
  if (header.length > MAX_HEADER_BYTES) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `npy header of ${header.length} bytes exceeds the ${MAX_HEADER_BYTES} of format 1.0; use fewer dimensions`,
    );
  }
  const out = Buffer.alloc(PREAMBLE_BYTES + header.length + values.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; // major version
  out[7] = 0; // minor version
  out.writeUInt16LE(header.length, 8);
  out.write(header, PREAMBLE_BYTES, 'latin1');
  const dataStart = PREAMBLE_BYTES + header.length;
  if (HOST_IS_LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), dataStart);
  } else {
    const width = values.BYTES_PER_ELEMENT;
    for (let i = 0; i < values.length; i++) {
      if (width === 4) out.writeFloatLE(values[i]!, dataStart + i * 4);
      else out.writeDoubleLE(values[i]!, dataStart + i * 8);
    }
  }
  return out;
}
