import { Buffer, constants as bufferConstants } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { VoxelfeedError } from '../../errors.js';
import type { Shape3 } from '../../sampling/types.js';
import { openRegularFile } from '../open-regular-file.js';
import { type NrrdHeader, readNrrdHeaderFile } from './nrrd-header.js';
import { type NrrdType, nrrdTypeBytes, type VoxelArray, voxelArray } from './nrrd-type.js';
import { spatialShape } from './spatial-shape.js';
import { swapEndianInPlace } from './swap-endian.js';

const gunzipAsync = promisify(gunzip);

/** A volume as stored: values of the file's type, in file order (axis 0 fastest), native byte order. */
export interface RawVolume {
  /** Spatial sizes in NRRD axis order (a 4-D file's channel axis of size 1 dropped: see `spatialShape`). */
  readonly sizes: Shape3;
  readonly type: NrrdType;
  readonly data: VoxelArray;
}

/** What `readNrrdVolume` returns: the volume and what reading it cost, for metrics. */
export interface ReadRawVolume extends RawVolume {
  /** Bytes read from disk: the header plus the (possibly compressed) data. */
  readonly fileBytes: number;
  /** Milliseconds spent in file I/O (opening, reading); decompression and byte swapping are not counted. */
  readonly readMs: number;
}

/**
 * deflate cannot expand data by more than 1032:1, so fewer compressed bytes than expected/1032 cannot hold
 * the volume: such a header is refused before anything is allocated or inflated.
 */
const MAX_DEFLATE_RATIO = 1032;
const LINE_SKIP_CHUNK_BYTES = 4096;
const GUNZIP_CHUNK_BYTES = 1 << 20;
const NATIVE_ENDIAN = endianness() === 'LE' ? 'little' : 'big';

/**
 * Reads an NRRD volume (`.nrrd` with attached data or `.nhdr` with a data file), raw or gzip, either byte
 * order, 3-D or 4-D with one channel axis of size 1 (see `spatialShape`). The decoded size is checked against the header before any
 * voxel buffer is allocated; decompression runs off the event loop (zlib's thread pool).
 */
export async function readNrrdVolume(filePath: string): Promise<ReadRawVolume> {
  const started = performance.now();
  const header = await readNrrdHeaderFile(filePath);
  const headerMs = performance.now() - started;
  const sizes = spatialShape(header.sizes, header.kinds, filePath);
  const width = nrrdTypeBytes(header.type);
  const expected = header.sizes.reduce((product, size) => product * size, width);
  const described = `sizes ${header.sizes.join(' ')}, type ${header.type}`;
  // Every header value that moves or sizes the data, so a wrong skip or encoding is named, not only "truncated".
  const layout = [
    `encoding ${header.encoding}`,
    header.lineSkip > 0 ? `line skip ${header.lineSkip}` : '',
    header.byteSkip !== 0 ? `byte skip ${header.byteSkip}` : '',
  ]
    .filter((part) => part !== '')
    .join(', ');
  const mismatch = (found: string): VoxelfeedError =>
    new VoxelfeedError(
      'DATA_LOSS',
      `${filePath}: expected ${expected} bytes of voxel data (${described}), found ${found} (${layout}); the file is truncated or its header is wrong`,
    );
  if (expected > bufferConstants.MAX_LENGTH) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${filePath}: the header claims ${expected} bytes of voxel data (${described}), more than the ${bufferConstants.MAX_LENGTH} one volume may take; the header is wrong`,
    );
  }

  const dataPath = header.dataFile ?? filePath;
  const handle = await openRegularFile(dataPath).catch((error: unknown) => {
    throw dataFileError(filePath, dataPath, error);
  });
  let ioMs = 0;
  let fileBytes = header.headerBytes;
  let bytes: Uint8Array;
  try {
    const ioStarted = performance.now();
    const { size } = await handle.stat();
    const afterLines = await skipLines(
      handle,
      header.dataFile === null ? header.headerBytes : 0,
      header,
      dataPath,
    );
    fileBytes += afterLines.scanned;
    if (header.encoding === 'raw') {
      const start = header.byteSkip === -1 ? size - expected : afterLines.offset + header.byteSkip;
      const available = size - start;
      if (start < afterLines.offset || available !== expected) {
        throw mismatch(
          `${Math.max(0, size - afterLines.offset - Math.max(0, header.byteSkip))} in ${dataPath}`,
        );
      }
      bytes = await readExactly(handle, start, expected);
      if (bytes.length !== expected)
        throw mismatch(`${bytes.length} in ${dataPath} (it shrank while being read)`);
      fileBytes += expected;
      ioMs = performance.now() - ioStarted;
    } else {
      const compressedBytes = size - afterLines.offset;
      if ((expected + header.byteSkip) / MAX_DEFLATE_RATIO > compressedBytes) {
        throw mismatch(
          `only ${compressedBytes} gzip-compressed bytes in ${dataPath}, too few to inflate to that`,
        );
      }
      const compressed = await readExactly(handle, afterLines.offset, compressedBytes);
      fileBytes += compressedBytes;
      ioMs = performance.now() - ioStarted;
      const corrupt = (error: unknown): VoxelfeedError =>
        new VoxelfeedError(
          'DATA_LOSS',
          `${filePath}: the gzip data${dataPath === filePath ? '' : ` in ${dataPath}`} is corrupt or truncated (${errorText(error)}; read as ${layout}); re-save the volume or fix the header`,
          { cause: error },
        );
      bytes = await inflate(compressed, header.byteSkip, expected, dataPath, mismatch, corrupt);
    }
  } finally {
    await handle.close();
  }

  // Typed arrays need aligned offsets (gzip with an odd byte skip). A copy, not `slice()`: on the Buffer that
  // gunzip returns, `slice()` is a view at the same offset.
  if (bytes.byteOffset % width !== 0) bytes = new Uint8Array(bytes);
  if (width > 1 && header.endian !== NATIVE_ENDIAN) await swapEndianInPlace(bytes, width as 2 | 4 | 8);
  return {
    sizes,
    type: header.type,
    data: voxelArray(header.type, bytes),
    fileBytes,
    readMs: headerMs + ioMs,
  };
}

/** Inflates gzip data, drops `byteSkip` leading bytes and checks that exactly `expected` bytes remain. */
async function inflate(
  compressed: Uint8Array,
  byteSkip: number,
  expected: number,
  dataPath: string,
  mismatch: (found: string) => VoxelfeedError,
  corrupt: (error: unknown) => VoxelfeedError,
): Promise<Uint8Array> {
  const limit = byteSkip + expected;
  let inflated: Buffer;
  try {
    inflated = await gunzipAsync(compressed, {
      chunkSize: Math.max(64, Math.min(GUNZIP_CHUNK_BYTES, limit + 1)),
      // One byte of slack tells "exactly right" from "too long" without inflating a bomb to the end.
      maxOutputLength: Math.min(bufferConstants.MAX_LENGTH, limit + 1),
    });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw mismatch(`more than that after inflating ${dataPath}`);
    }
    throw corrupt(error);
  }
  if (inflated.length !== limit) {
    throw mismatch(`${Math.max(0, inflated.length - byteSkip)} after inflating ${dataPath}`);
  }
  return inflated.subarray(byteSkip);
}

/** Offset just past the header's `line skip` lines, starting at `start`, and how many bytes that read. */
async function skipLines(
  handle: FileHandle,
  start: number,
  header: NrrdHeader,
  dataPath: string,
): Promise<{ offset: number; scanned: number }> {
  let offset = start;
  let remaining = header.lineSkip;
  const chunk = new Uint8Array(LINE_SKIP_CHUNK_BYTES);
  while (remaining > 0) {
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
    if (bytesRead === 0) {
      throw new VoxelfeedError(
        'DATA_LOSS',
        `${dataPath}: "line skip: ${header.lineSkip}" runs past the end of the file; the file is truncated or its header is wrong`,
      );
    }
    for (let i = 0; i < bytesRead && remaining > 0; i++) {
      offset++;
      if (chunk[i] === 10) remaining--;
    }
  }
  return { offset, scanned: offset - start };
}

/** `length` bytes from `position` into a buffer of their own (offset 0, so any typed array fits). */
async function readExactly(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const bytes = Buffer.allocUnsafeSlow(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return bytes.subarray(0, done);
}

function dataFileError(headerPath: string, dataPath: string, error: unknown): VoxelfeedError {
  const what = dataPath === headerPath ? 'cannot open the volume' : `cannot open its data file ${dataPath}`;
  return new VoxelfeedError('DATA_LOSS', `${headerPath}: ${what} (${errorText(error)})`, { cause: error });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
