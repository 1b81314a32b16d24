import path from 'node:path';
import { VoxelfeedError } from '../../errors.js';
import { openRegularFile } from '../open-regular-file.js';
import { type NrrdType, normaliseNrrdType, nrrdTypeBytes } from './nrrd-type.js';

/*
 * Why not the `nrrd-js` package: its `parse()` takes the whole file as one ArrayBuffer and decodes the voxel
 * data eagerly (the catalog reads ~900 headers at start-up and must not touch voxels), it has no gzip and no
 * detached data files (it only warns "No support for external data yet!"), and it reports unknown encodings,
 * types and lines with `console.warn` and carries on instead of throwing. A header is ~300 bytes of
 * `key: value` lines, so we parse it here, stop at the blank line, and fail with a message naming the file.
 */

export type { NrrdType } from './nrrd-type.js';

export interface NrrdHeader {
  dimension: number;
  sizes: number[];
  type: NrrdType;
  encoding: 'raw' | 'gzip';
  endian: 'little' | 'big';
  /** Absolute path of the data for a detached header (resolved against the header's folder), else null. */
  dataFile: string | null;
  /** Bytes up to and including the blank line that ends the header: where attached data starts. */
  headerBytes: number;
  /** Bytes to skip before the data: in the file for raw data, in the decompressed stream for gzip; -1 = data ends the file (raw only). */
  byteSkip: number;
  /** Lines to skip at the start of the data (before decompression). */
  lineSkip: number;
  kinds: string[] | null;
  spacings: number[] | null;
  spaceDirections: (number[] | null)[] | null;
  /** The `key:=value` lines, which carry no geometry (e.g. `voxelfeed_kind:=probability`); later keys win. */
  keyValues: ReadonlyMap<string, string>;
}

/** More dimensions than a single-channel volume with one extra axis cannot be served. */
const MAX_DIMENSION = 4;
/** A header longer than this is not a header: the blank line is missing or the file is not NRRD. */
const MAX_NRRD_HEADER_BYTES = 1 << 20;
const READ_CHUNK_BYTES = 4096;
const SUPPORTED_ENCODINGS = 'raw, gzip (gz)';
const KNOWN_ENCODINGS: ReadonlySet<string> = new Set(['ascii', 'text', 'txt', 'hex', 'bzip2', 'bz2', 'zrl']);

/**
 * Parses an NRRD header from the start of `bytes` (which may go on with attached data). The header ends at
 * the first blank line, or at the end of `bytes` for a detached header (`.nhdr`) that has none.
 */
export function parseNrrdHeader(bytes: Uint8Array, sourcePath: string): NrrdHeader {
  const fail = (problem: string): never => {
    throw new VoxelfeedError('DATA_LOSS', `${sourcePath}: ${problem}`);
  };
  if (!startsWithMagic(bytes)) {
    fail('not an NRRD file: it does not start with the magic NRRD000x');
  }
  const end = findHeaderEnd(bytes, 0);
  const text = new TextDecoder('utf-8').decode(bytes.subarray(0, end ?? bytes.length));
  const lines = text.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
  const fields = new Map<string, string>();
  const keyValues = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') break;
    if (line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) fail(`header line ${i + 1} "${clip(line)}" is neither "field: value" nor "key:=value"`);
    if (line[colon + 1] === '=') {
      keyValues.set(line.slice(0, colon), line.slice(colon + 2));
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase().replace(/\s+/g, ' ');
    const value = line.slice(colon + 1).trim();
    if (fields.has(name)) fail(`field "${name}" appears twice in the header`);
    fields.set(name, value);
    if ((name === 'data file' || name === 'datafile') && /^LIST\b/.test(value)) {
      fail('"data file: LIST" (data split over several files) is not supported; join the data into one file');
    }
  }

  const required = (name: string): string =>
    fields.get(name) ?? fail(`the header has no "${name}:" field; every NRRD header needs one`);

  const sizes = parseIntegers(required('sizes'), 'sizes', fail);
  const dimension = fields.has('dimension')
    ? parseInteger(fields.get('dimension')!, 'dimension', fail)
    : sizes.length;
  if (dimension < 1 || dimension > MAX_DIMENSION) {
    fail(`dimension ${dimension} is not supported; volumes have 3 dimensions (or 4 with one axis of size 1)`);
  }
  if (sizes.length !== dimension) {
    fail(
      `"sizes: ${sizes.join(' ')}" has ${sizes.length} values but "dimension: ${dimension}" says ${dimension}`,
    );
  }
  const badSize = sizes.find((size) => size <= 0);
  if (badSize !== undefined)
    fail(`"sizes: ${sizes.join(' ')}" has a size ${badSize}; every size must be >= 1`);

  const typeName = required('type');
  const type =
    normaliseNrrdType(typeName) ?? fail(`unknown type "${typeName}"; expected e.g. uchar, short, float`);
  if (type === 'int64' || type === 'uint64') {
    fail(
      `type ${typeName} (${type}) is not supported; voxelfeed reads 8-, 16- and 32-bit integers, float and double (convert with: unu convert -t float)`,
    );
  }
  const encoding = parseEncoding(required('encoding'), fail);

  const endianValue = fields.get('endian')?.toLowerCase();
  if (endianValue !== undefined && endianValue !== 'little' && endianValue !== 'big') {
    fail(`endian "${endianValue}" is neither little nor big`);
  }
  if (endianValue === undefined && nrrdTypeBytes(type) > 1) {
    fail(`the header has no "endian:" field, which ${type} data in ${encoding} encoding needs`);
  }
  const endian: 'little' | 'big' = endianValue === 'big' ? 'big' : 'little';

  const dataFileValue = fields.get('data file') ?? fields.get('datafile');
  if (
    dataFileValue !== undefined &&
    /%/.test(dataFileValue) &&
    /\s-?\d+\s+-?\d+\s+-?\d+(\s+\d+)?$/.test(dataFileValue)
  ) {
    fail(
      `"data file: ${dataFileValue}" (data split over numbered files) is not supported; join the data into one file`,
    );
  }
  const dataFile =
    dataFileValue === undefined ? null : path.resolve(path.dirname(path.resolve(sourcePath)), dataFileValue);
  if (dataFile === null && end === null) {
    fail(
      `no blank line ends the header within ${bytes.length} bytes, so there is no attached data; the file is truncated`,
    );
  }

  const byteSkip = fields.has('byte skip')
    ? parseInteger(fields.get('byte skip')!, 'byte skip', fail)
    : fields.has('byteskip')
      ? parseInteger(fields.get('byteskip')!, 'byteskip', fail)
      : 0;
  if (byteSkip < -1)
    fail(`byte skip ${byteSkip} is invalid; it must be >= 0, or -1 for data at the end of the file`);
  if (byteSkip === -1 && encoding !== 'raw') fail('byte skip -1 is only defined for raw encoding');
  const lineSkipValue = fields.get('line skip') ?? fields.get('lineskip');
  const lineSkip = lineSkipValue === undefined ? 0 : parseInteger(lineSkipValue, 'line skip', fail);
  if (lineSkip < 0) fail(`line skip ${lineSkip} is invalid; it must be >= 0`);

  const kinds = perAxis(fields.get('kinds'), dimension, 'kinds', fail, (word) => word);
  const spacings = perAxis(fields.get('spacings'), dimension, 'spacings', fail, (word) =>
    word.toLowerCase() === 'nan' ? Number.NaN : parseNumber(word, 'spacings', fail),
  );
  const spaceDirections = perAxis(
    fields.get('space directions'),
    dimension,
    'space directions',
    fail,
    (word) => (word.toLowerCase() === 'none' ? null : parseVector(word, fail)),
  );

  return {
    dimension,
    sizes,
    type,
    encoding,
    endian,
    dataFile,
    headerBytes: end ?? bytes.length,
    byteSkip,
    lineSkip,
    kinds,
    spacings,
    spaceDirections,
    keyValues,
  };
}

/**
 * Reads only the header of an `.nrrd` or `.nhdr` file, in 4 KiB chunks until the blank line, never the voxel
 * data (the catalog calls this for every series at start-up). A detached header's data file is not opened.
 */
export async function readNrrdHeaderFile(filePath: string): Promise<NrrdHeader> {
  const handle = await openRegularFile(filePath).catch((error: unknown) => {
    throw new VoxelfeedError('DATA_LOSS', `${filePath}: cannot open the NRRD header (${errorText(error)})`, {
      cause: error,
    });
  });
  try {
    let buffer = new Uint8Array(READ_CHUNK_BYTES);
    let length = 0;
    let end: number | null = null;
    for (;;) {
      if (buffer.length - length < READ_CHUNK_BYTES) buffer = grow(buffer, buffer.length * 2);
      const { bytesRead } = await handle.read(buffer, length, READ_CHUNK_BYTES, length);
      const scanFrom = Math.max(0, length - 2);
      length += bytesRead;
      const bytes = buffer.subarray(0, length);
      if (length >= 8 && !startsWithMagic(bytes)) break; // parseNrrdHeader reports the missing magic
      end = findHeaderEnd(bytes, scanFrom);
      if (end !== null || bytesRead === 0) break;
      if (length > MAX_NRRD_HEADER_BYTES) {
        throw new VoxelfeedError(
          'DATA_LOSS',
          `${filePath}: no blank line ends the NRRD header within the first ${MAX_NRRD_HEADER_BYTES} bytes; the header is corrupt or this is not an NRRD file`,
        );
      }
    }
    const bytes = buffer.subarray(0, end ?? length);
    return parseNrrdHeader(bytes, filePath);
  } catch (error) {
    if (error instanceof VoxelfeedError) throw error;
    throw new VoxelfeedError('DATA_LOSS', `${filePath}: cannot read the NRRD header (${errorText(error)})`, {
      cause: error,
    });
  } finally {
    await handle.close();
  }
}

/** Index just past the blank line ending the header ("\n\n" or "\n\r\n"), searching from `from`; null if none yet. */
function findHeaderEnd(bytes: Uint8Array, from: number): number | null {
  for (let i = from; i < bytes.length - 1; i++) {
    if (bytes[i] !== 10) continue;
    if (bytes[i + 1] === 10) return i + 2;
    if (bytes[i + 1] === 13 && bytes[i + 2] === 10) return i + 3;
  }
  return null;
}

function startsWithMagic(bytes: Uint8Array): boolean {
  const magic = 'NRRD000';
  if (bytes.length < 8) return false;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  const version = bytes[7]!;
  return version >= 48 && version <= 57;
}

function parseEncoding(value: string, fail: (problem: string) => never): 'raw' | 'gzip' {
  const name = value.toLowerCase();
  if (name === 'raw') return 'raw';
  if (name === 'gzip' || name === 'gz') return 'gzip';
  const known = KNOWN_ENCODINGS.has(name) ? 'is not supported' : 'is unknown';
  return fail(
    `encoding "${value}" ${known}; voxelfeed reads ${SUPPORTED_ENCODINGS} (re-save with: unu save -f nrrd -e gzip)`,
  );
}

function parseInteger(word: string, field: string, fail: (problem: string) => never): number {
  if (!/^-?\d+$/.test(word)) fail(`"${field}: ${clip(word)}" is not an integer`);
  return Number(word);
}

function parseIntegers(value: string, field: string, fail: (problem: string) => never): number[] {
  return value.split(/\s+/).map((word) => parseInteger(word, field, fail));
}

function parseNumber(word: string, field: string, fail: (problem: string) => never): number {
  const value = Number(word);
  if (word === '' || Number.isNaN(value)) fail(`"${field}" value "${clip(word)}" is not a number`);
  return value;
}

/** "(1,0,0)" -> [1, 0, 0]. */
function parseVector(word: string, fail: (problem: string) => never): number[] {
  if (!word.startsWith('(') || !word.endsWith(')'))
    fail(`space direction "${clip(word)}" is not a vector like (1,0,0)`);
  return word
    .slice(1, -1)
    .split(',')
    .map((part) => parseNumber(part.trim(), 'space directions', fail));
}

/** A per-axis field: one whitespace-separated word per axis (vectors hold no spaces after trimming them out). */
function perAxis<T>(
  value: string | undefined,
  dimension: number,
  field: string,
  fail: (problem: string) => never,
  parse: (word: string) => T,
): T[] | null {
  if (value === undefined) return null;
  const words = collapseVectors(value).split(/\s+/);
  if (words.length !== dimension) {
    fail(`"${field}: ${clip(value)}" has ${words.length} entries but the volume has ${dimension} axes`);
  }
  return words.map(parse);
}

/**
 * `value` with the whitespace inside each "(...)" removed, in one linear pass. A backtracking regex did this
 * before and took cubic time: "spacings: (" and 6000 spaces held the event loop for 90 s.
 */
function collapseVectors(value: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const opening = value.indexOf('(', at);
    const close = opening < 0 ? -1 : value.indexOf(')', opening);
    if (close < 0) break;
    out += value.slice(at, opening) + value.slice(opening, close + 1).replace(/\s+/g, '');
    at = close + 1;
  }
  return out + value.slice(at);
}

function grow(bytes: Uint8Array, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  out.set(bytes, 0);
  return out;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
