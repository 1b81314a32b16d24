import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { VoxelfeedError } from '../errors.js';

/** Voxel types we write; the NRRD names match what teem and pynrrd read. */
export type NrrdWriteType = 'uint8' | 'int16' | 'float32';
export type NrrdEncoding = 'raw' | 'gzip';
export type NrrdData = Uint8Array | Int16Array | Float32Array;

export interface NrrdHeaderOptions {
  /** NRRD `sizes`, axis 0 first (the fastest axis in the file). */
  readonly sizes: readonly number[];
  readonly type: NrrdWriteType;
  readonly encoding: NrrdEncoding;
  /** Optional voxel spacing per axis (NRRD `spacings`), e.g. millimetres. */
  readonly spacings?: readonly number[];
  /** Optional NRRD `kinds` per axis, e.g. `domain`. */
  readonly kinds?: readonly string[];
  /** Optional one-line description (NRRD `content`). */
  readonly content?: string;
}

export interface EncodeNrrdOptions extends NrrdHeaderOptions {
  /** Voxels in file order (axis 0 fastest), as many as the product of `sizes`. */
  readonly data: NrrdData;
  /** zlib level 0..9 for `gzip`; default 6 (zlib's own default). */
  readonly gzipLevel?: number;
}

const BYTES_PER_VOXEL: Record<NrrdWriteType, number> = { uint8: 1, int16: 2, float32: 4 };
/** The names the NRRD spec accepts: `float32` is not one of them, `float` is. */
const HEADER_TYPE: Record<NrrdWriteType, string> = { uint8: 'uint8', int16: 'int16', float32: 'float' };
const ARRAY_OF_TYPE = { uint8: Uint8Array, int16: Int16Array, float32: Float32Array } as const;

const gzipAsync = promisify(gzip);

// Typed arrays use the host's byte order; NRRD files we write are little-endian.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(message: string): never {
  throw new VoxelfeedError('INVALID_ARGUMENT', message);
}

/** A header field value must stay on its line: a newline would start a new field. */
function checkOneLine(field: string, value: string): void {
  if (/[\r\n]/.test(value)) fail(`NRRD ${field} ${JSON.stringify(value)} holds a line break; use one line`);
}

function checkPerAxis(field: string, values: readonly unknown[] | undefined, dimension: number): void {
  if (values !== undefined && values.length !== dimension) {
    fail(`NRRD ${field} has ${values.length} values for ${dimension} axes; give one per axis`);
  }
}

/**
 * The attached NRRD0004 header, up to and including the blank line that ends it. `endian` is written
 * only for multi-byte types, where readers need it.
 */
export function encodeNrrdHeader(options: NrrdHeaderOptions): string {
  const { sizes, type, encoding } = options;
  if (sizes.length < 1 || sizes.length > 16) {
    fail(`NRRD dimension ${sizes.length} is outside 1..16; give between 1 and 16 sizes`);
  }
  for (const size of sizes) {
    if (!Number.isSafeInteger(size) || size < 1) {
      fail(`NRRD sizes ${sizes.join(' ')}: every size must be an integer >= 1`);
    }
  }
  if (!(type in BYTES_PER_VOXEL))
    fail(`NRRD type ${String(type)} is not supported; use uint8, int16 or float32`);
  if (encoding !== 'raw' && encoding !== 'gzip') {
    fail(`NRRD encoding ${String(encoding)} is not supported; use raw or gzip`);
  }
  checkPerAxis('spacings', options.spacings, sizes.length);
  checkPerAxis('kinds', options.kinds, sizes.length);
  const lines = [
    'NRRD0004',
    '# Complete NRRD file format specification at:',
    '# http://teem.sourceforge.net/nrrd/format.html',
  ];
  if (options.content !== undefined) {
    checkOneLine('content', options.content);
    lines.push(`content: ${options.content}`);
  }
  lines.push(`type: ${HEADER_TYPE[type]}`, `dimension: ${sizes.length}`, `sizes: ${sizes.join(' ')}`);
  if (options.spacings !== undefined) {
    for (const spacing of options.spacings) {
      if (!Number.isFinite(spacing) || spacing <= 0) {
        fail(`NRRD spacings ${options.spacings.join(' ')}: every spacing must be a finite number > 0`);
      }
    }
    lines.push(`spacings: ${options.spacings.join(' ')}`);
  }
  if (options.kinds !== undefined) {
    for (const kind of options.kinds) {
      if (!/^[A-Za-z0-9-]+$/.test(kind))
        fail(`NRRD kind ${JSON.stringify(kind)} is not a kind name, e.g. domain`);
    }
    lines.push(`kinds: ${options.kinds.join(' ')}`);
  }
  if (BYTES_PER_VOXEL[type] > 1) lines.push('endian: little');
  lines.push(`encoding: ${encoding}`);
  return lines.join('\n') + '\n\n';
}

/** The voxel bytes in little-endian order; a view without copying on little-endian hosts. */
function littleEndianBytes(data: NrrdData): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_IS_LITTLE_ENDIAN || data.BYTES_PER_ELEMENT === 1) return view;
  const out = new Uint8Array(data.byteLength);
  const width = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < out.length; i += width) {
    for (let k = 0; k < width; k++) out[i + k] = view[i + width - 1 - k]!;
  }
  return out;
}

/**
 * A complete NRRD file (attached header, then the voxels). Gzip runs on the libuv thread pool through
 * async `node:zlib`, so a writer can build the next volume on the main thread meanwhile.
 */
export async function encodeNrrd(options: EncodeNrrdOptions): Promise<Buffer> {
  const header = encodeNrrdHeader(options);
  const { data, type, sizes } = options;
  if (!(data instanceof ARRAY_OF_TYPE[type])) {
    fail(`NRRD type ${type} needs its data as a ${ARRAY_OF_TYPE[type].name}, got a ${data.constructor.name}`);
  }
  const voxels = sizes.reduce((product, size) => product * size, 1);
  if (data.length !== voxels) {
    fail(
      `NRRD data holds ${data.length} voxels but sizes ${sizes.join(' ')} need ${voxels}; pass matching sizes`,
    );
  }
  const level = options.gzipLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    fail(`gzip level ${level} is outside 0..9; use 1 for speed or 6 for size`);
  }
  const bytes = littleEndianBytes(data);
  const body = options.encoding === 'gzip' ? await gzipAsync(bytes, { level }) : bytes;
  return Buffer.concat([Buffer.from(header, 'latin1'), body]);
}
