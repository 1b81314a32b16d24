import { VoxelfeedError } from '../../errors.js';

/**
 * NRRD sample types. The format allows many C spellings of each type (`uchar`, `unsigned char`, `uint8`,
 * `uint8_t`, ...); teem itself writes the long ones (`unsigned short`), pynrrd the short ones (`uint16`),
 * so the header parser maps them all to one name per type.
 */
export type NrrdType =
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64';

export type VoxelArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/** Every spelling of the NRRD format specification (teem's `nrrdType` airEnum), lower case. */
const SPELLINGS: ReadonlyMap<string, NrrdType> = new Map<string, NrrdType>([
  ...spellings('int8', ['signed char', 'int8', 'int8_t']),
  ...spellings('uint8', ['uchar', 'unsigned char', 'uint8', 'uint8_t']),
  ...spellings('int16', ['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t']),
  ...spellings('uint16', ['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t']),
  ...spellings('int32', ['int', 'signed int', 'int32', 'int32_t']),
  ...spellings('uint32', ['uint', 'unsigned int', 'uint32', 'uint32_t']),
  ...spellings('int64', [
    'longlong',
    'long long',
    'long long int',
    'signed long long',
    'signed long long int',
    'int64',
    'int64_t',
  ]),
  ...spellings('uint64', ['ulonglong', 'unsigned long long', 'unsigned long long int', 'uint64', 'uint64_t']),
  ...spellings('float32', ['float']),
  ...spellings('float64', ['double']),
]);

function spellings(type: NrrdType, names: readonly string[]): [string, NrrdType][] {
  return names.map((name) => [name, type]);
}

/** The type a `type:` field names, or null for one NRRD does not define (or `block`). */
export function normaliseNrrdType(spelling: string): NrrdType | null {
  return SPELLINGS.get(spelling.trim().toLowerCase().replace(/\s+/g, ' ')) ?? null;
}

const BYTES: Readonly<Record<NrrdType, number>> = {
  int8: 1,
  uint8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  uint64: 8,
  float32: 4,
  float64: 8,
};

export function nrrdTypeBytes(type: NrrdType): number {
  return BYTES[type];
}

/**
 * A typed array over `bytes` (which must be aligned to the type's size and hold native-endian values).
 * int64 and uint64 have no exact JavaScript number type, so volumes of those types are refused earlier.
 */
export function voxelArray(type: NrrdType, bytes: Uint8Array): VoxelArray {
  const { buffer, byteOffset } = bytes;
  const length = bytes.byteLength / BYTES[type];
  switch (type) {
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, length);
    case 'int16':
      return new Int16Array(buffer, byteOffset, length);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float64':
      return new Float64Array(buffer, byteOffset, length);
    case 'int64':
    case 'uint64':
      throw new VoxelfeedError(
        'INTERNAL',
        `voxelArray: ${type} has no exact typed array; callers refuse it first`,
      );
  }
}
