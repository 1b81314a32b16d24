import { endianness } from 'node:os';
import { VoxelfeedError } from '../../errors.js';
import type { Nodule } from '../../sampling/types.js';
import { openRegularFile } from '../open-regular-file.js';
import { type PythonValue, parsePythonLiteral } from './python-literal.js';

/** A numeric `.npy` array, values widened to float64 and given in C order whatever order the file used. */
export interface NpyArray {
  shape: number[];
  /** The header's `descr`, e.g. '<f8'. */
  dtype: string;
  fortranOrder: boolean;
  values: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const SUPPORTED_DTYPES = 'f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1';
/** A boxes file holds a few rows per series; anything this large is not one. */
const MAX_BOXES_FILE_BYTES = 64 << 20;
const BOX_COLUMNS = 4;

interface Dtype {
  readonly kind: 'f' | 'i' | 'u' | 'b';
  readonly size: number;
  readonly littleEndian: boolean;
}

/** What an `.npy` header says, checked against the file's length; no value read yet. */
interface NpyHeader {
  readonly shape: number[];
  readonly descr: string;
  readonly dtype: Dtype;
  readonly fortranOrder: boolean;
  /** Where the array data starts; the file holds exactly the data the shape and dtype call for. */
  readonly dataStart: number;
}

/**
 * Parses an `.npy` file (format versions 1.0, 2.0 and 3.0) holding a plain numeric array. The header dict
 * is parsed as a literal, never evaluated; object arrays (pickles) and structured dtypes are refused before
 * any of their payload is looked at. int64/uint64 values beyond 2^53 lose precision in float64.
 */
export function parseNpy(bytes: Uint8Array, sourcePath: string): NpyArray {
  return readNpyValues(bytes, parseNpyHeader(bytes, sourcePath));
}

/** The header of an `.npy` file, refused as `parseNpy` refuses it; cheap whatever the array's size. */
function parseNpyHeader(bytes: Uint8Array, sourcePath: string): NpyHeader {
  const fail = (problem: string): never => {
    throw new VoxelfeedError('DATA_LOSS', `${sourcePath}: ${problem}`);
  };
  if (bytes.length < 10 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    fail('not an .npy file: it does not start with the magic \\x93NUMPY; write it with np.save');
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = view.getUint16(8, true);
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12)
      fail(`the file ends inside its ${major}.${minor} preamble (${bytes.length} bytes)`);
    headerStart = 12;
    headerLength = view.getUint32(8, true);
  } else {
    return fail(`.npy format version ${major}.${minor} is not supported; voxelfeed reads 1.0, 2.0 and 3.0`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) {
    fail(
      `the header claims ${headerLength} bytes but the file ends after ${bytes.length - headerStart}; the file is truncated`,
    );
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText =
    major === 3 ? decodeUtf8(headerBytes, fail) : new TextDecoder('latin1').decode(headerBytes);

  let header: PythonValue;
  try {
    header = parsePythonLiteral(headerText);
  } catch (error) {
    return fail(
      `the header is not a Python dict literal (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (header === null || typeof header !== 'object' || header.kind !== 'dict') {
    return fail('the header is not a dict with descr, fortran_order and shape');
  }
  const descr = header.entries.get('descr');
  const fortranOrder = header.entries.get('fortran_order');
  const shapeValue = header.entries.get('shape');
  if (descr === undefined || fortranOrder === undefined || shapeValue === undefined) {
    return fail('the header dict lacks one of descr, fortran_order, shape');
  }
  if (typeof descr !== 'string') {
    return fail(
      'holds a structured dtype (a list of fields), not a plain numeric array; save the boxes as a float array: np.save(path, np.asarray(boxes, dtype=np.float32))',
    );
  }
  const dtype = parseDtype(descr, sourcePath);
  if (typeof fortranOrder !== 'boolean')
    return fail(`fortran_order is ${String(fortranOrder)}, not True or False`);
  const shape = parseShape(shapeValue, fail);

  const count = shape.reduce((product, size) => product * size, 1);
  const expected = count * dtype.size;
  const found = bytes.length - dataStart;
  if (found !== expected) {
    fail(
      `expected ${expected} bytes of array data (shape (${shape.join(', ')}), dtype '${descr}'), found ${found}; the file is truncated or was not written by np.save`,
    );
  }
  return { shape, descr, dtype, fortranOrder, dataStart };
}

/** The array's values, widened to float64 (8 bytes each, whatever the dtype) and in C order. */
function readNpyValues(bytes: Uint8Array, header: NpyHeader): NpyArray {
  const { shape, descr, dtype, fortranOrder, dataStart } = header;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = shape.reduce((product, size) => product * size, 1);
  const stored = readValues(view, dataStart, count, dtype);
  const values = fortranOrder && shape.length > 1 ? fortranToC(stored, shape) : stored;
  return { shape, dtype: descr, fortranOrder, values };
}

/**
 * Reads a boxes file: rows `[c0, c1, c2, diameter]` (centre in voxels along NRRD axes 0, 1, 2), shape
 * `(N, 4)`; `(4,)` is one row and `(0,)` or `(0, 4)` none. For `(N, k)` with k > 4 the first four columns
 * are used and the rest (e.g. a class or a score) ignored.
 */
export async function readBoxesNpy(filePath: string): Promise<Nodule[]> {
  let bytes: Uint8Array;
  try {
    // Opened without blocking, and refused unless a regular file: reading a FIFO would wait forever (with a
    // libuv thread), and a directory would fail with a bare EISDIR.
    const handle = await openRegularFile(filePath);
    try {
      const { size } = await handle.stat();
      if (size > MAX_BOXES_FILE_BYTES) {
        throw new VoxelfeedError(
          'DATA_LOSS',
          `${filePath}: ${size} bytes is too large for a boxes file (limit ${MAX_BOXES_FILE_BYTES}); it should hold a few rows [c0, c1, c2, diameter]`,
        );
      }
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof VoxelfeedError) throw error;
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${filePath}: cannot read the boxes file (${error instanceof Error ? error.message : String(error)}); a boxes file is an .npy written by np.save`,
      { cause: error },
    );
  }
  // The shape is checked before any value is read: widening a wrong file of up to 64 MiB of bytes to
  // float64 would take 8 times that, only to refuse it.
  const header = parseNpyHeader(bytes, filePath);
  const { shape } = header;
  let rows: number;
  let columns: number;
  if (shape.length === 1 && (shape[0] === 0 || shape[0] === BOX_COLUMNS)) {
    rows = shape[0] === 0 ? 0 : 1;
    columns = BOX_COLUMNS;
  } else if (shape.length === 2 && (shape[0] === 0 || shape[1]! >= BOX_COLUMNS)) {
    rows = shape[0]!;
    columns = shape[1]!;
  } else {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${filePath}: boxes have shape ${pythonShape(shape)}; expected (N, 4) rows [c0, c1, c2, diameter], or (0, 4) for none`,
    );
  }
  const { values } = readNpyValues(bytes, header);
  const nodules: Nodule[] = [];
  for (let row = 0; row < rows; row++) {
    const at = row * columns;
    const [c0, c1, c2, diameter] = [values[at]!, values[at + 1]!, values[at + 2]!, values[at + 3]!];
    const bad = [c0, c1, c2, diameter].findIndex((value) => !Number.isFinite(value));
    if (bad !== -1) {
      const name = ['c0', 'c1', 'c2', 'diameter'][bad];
      throw new VoxelfeedError(
        'DATA_LOSS',
        `${filePath}: row ${row} has ${name} = ${values[at + bad]}; every box value must be a finite number`,
      );
    }
    if (diameter < 0) {
      throw new VoxelfeedError(
        'DATA_LOSS',
        `${filePath}: row ${row} has diameter ${diameter}; a diameter must be >= 0 (column 3 of [c0, c1, c2, diameter])`,
      );
    }
    nodules.push({ center: [c0, c1, c2], diameter });
  }
  return nodules;
}

/** A shape as numpy prints it: `(5,)`, `(2, 3)`. */
function pythonShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function parseDtype(descr: string, sourcePath: string): Dtype {
  const match = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (match?.[2] === 'O') {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${sourcePath} holds Python objects (dtype 'O'); voxelfeed never unpickles files. Save the boxes as a float array: np.save(path, np.asarray(boxes, dtype=np.float32))`,
    );
  }
  const kind = match?.[2];
  const size = Number(match?.[3]);
  const supported =
    (kind === 'f' && (size === 4 || size === 8)) ||
    ((kind === 'i' || kind === 'u') && [1, 2, 4, 8].includes(size)) ||
    (kind === 'b' && size === 1);
  if (!match || !supported) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${sourcePath}: dtype '${descr}' is not supported; voxelfeed reads ${SUPPORTED_DTYPES} (save with np.float32 or np.float64)`,
    );
  }
  const order = match[1];
  const littleEndian = order === '<' ? true : order === '>' ? false : endianness() === 'LE'; // '|', '=', none: native
  return { kind: kind as Dtype['kind'], size, littleEndian };
}

function parseShape(value: PythonValue, fail: (problem: string) => never): number[] {
  if (value === null || typeof value !== 'object' || value.kind === 'dict') {
    return fail(`shape ${JSON.stringify(value)} is not a tuple of sizes`);
  }
  return value.items.map((size) => {
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      return fail(`shape has the size ${JSON.stringify(size)}; sizes are integers >= 0`);
    }
    return size;
  });
}

function readValues(view: DataView, start: number, count: number, dtype: Dtype): Float64Array {
  const values = new Float64Array(count);
  const { kind, size, littleEndian: le } = dtype;
  const read = valueReader(kind, size);
  for (let i = 0, at = start; i < count; i++, at += size) values[i] = read(view, at, le);
  return values;
}

function valueReader(kind: Dtype['kind'], size: number): (view: DataView, at: number, le: boolean) => number {
  if (kind === 'f')
    return size === 4 ? (v, at, le) => v.getFloat32(at, le) : (v, at, le) => v.getFloat64(at, le);
  if (kind === 'b') return (v, at) => (v.getUint8(at) !== 0 ? 1 : 0);
  if (kind === 'i') {
    if (size === 1) return (v, at) => v.getInt8(at);
    if (size === 2) return (v, at, le) => v.getInt16(at, le);
    if (size === 4) return (v, at, le) => v.getInt32(at, le);
    return (v, at, le) => Number(v.getBigInt64(at, le));
  }
  if (size === 1) return (v, at) => v.getUint8(at);
  if (size === 2) return (v, at, le) => v.getUint16(at, le);
  if (size === 4) return (v, at, le) => v.getUint32(at, le);
  return (v, at, le) => Number(v.getBigUint64(at, le));
}

/** Values stored in Fortran order (axis 0 fastest) rearranged into C order (last axis fastest). */
function fortranToC(stored: Float64Array, shape: readonly number[]): Float64Array {
  const out = new Float64Array(stored.length);
  const strides: number[] = [];
  let stride = 1;
  for (const size of shape) {
    strides.push(stride);
    stride *= size;
  }
  const index = shape.map(() => 0);
  let from = 0;
  for (let c = 0; c < out.length; c++) {
    out[c] = stored[from]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      from += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      from -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return out;
}

function decodeUtf8(bytes: Uint8Array, fail: (problem: string) => never): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('the version 3.0 header is not valid UTF-8');
  }
}
