import { parseEnvFlag } from './env-flag.js';
import type { KindResult, OptionKind } from './option-kind.js';
import { formatBytes, parseByteSize } from './parse-byte-size.js';
import { parseShare } from './parse-share.js';
import { isTriple, parseTriple, type Triple } from './parse-triple.js';

/** The largest TCP port. */
export const MAX_PORT = 65535;

/**
 * Reads one address, or says what is wrong with it. The client library owns the address syntax
 * (`parseAddress` in client/); the commands that dial pass it in, so this layer imports no client code.
 */
export type AddressParser = (text: string) => object | { readonly problem: string };

/** An option without a value (`--strict`); its variable takes 1/0, true/false, yes/no, on/off. */
export interface FlagKind extends OptionKind<boolean> {
  readonly flag: true;
}

export function flag(): FlagKind {
  return { flag: true, placeholder: '', example: '1', parse: parseEnvFlag, format: String };
}

export function isFlagKind(kind: OptionKind<unknown>): kind is FlagKind {
  return 'flag' in kind && kind.flag === true;
}

/** Decimal digits only: Number() would also take '', '0x50', '1e3', ' 7 ' and '80.5'. */
export function integer(options: {
  readonly min: number;
  readonly max: number;
  readonly placeholder?: string;
  readonly example?: string;
}): OptionKind<number> {
  const { min, max } = options;
  return {
    placeholder: options.placeholder ?? 'N',
    example: options.example ?? String(Math.max(min, Math.min(max, 8))),
    parse: (text) => {
      const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
      return Number.isSafeInteger(value) && value >= min && value <= max
        ? { value }
        : { problem: `must be an integer from ${min} to ${max}` };
    },
    format: String,
  };
}

/** A listening port, 0 for a free one, or `off` (null): an endpoint that can be turned off (/metrics). */
export function portOrOff(options: { readonly example: string }): OptionKind<number | null> {
  const port = integer({ min: 0, max: MAX_PORT });
  return {
    placeholder: 'N|off',
    example: options.example,
    parse: (text) => {
      if (text.trim() === 'off') return { value: null };
      const parsed = port.parse(text);
      return 'value' in parsed ? parsed : { problem: `must be an integer from 0 to ${MAX_PORT}, or off` };
    },
    format: (value) => (value === null ? 'off' : String(value)),
  };
}

/** A decimal number such as 0.001, 2.5 or 1e-4 (no sign, no hex), within [min, max] or (min, max]. */
export function decimal(options: {
  readonly min: number;
  readonly max: number;
  /** true: the minimum itself is refused (durations that must be above 0). */
  readonly aboveMin?: boolean;
  readonly placeholder?: string;
  readonly example: string;
}): OptionKind<number> {
  const { min, max, aboveMin = false } = options;
  const range = aboveMin ? `above ${min} and at most ${max}` : `from ${min} to ${max}`;
  return {
    placeholder: options.placeholder ?? 'X',
    example: options.example,
    parse: (text) => {
      const trimmed = text.trim();
      const value = /^(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(trimmed) ? Number(trimmed) : Number.NaN;
      const inRange = (aboveMin ? value > min : value >= min) && value <= max;
      return Number.isFinite(value) && inRange ? { value } : { problem: `must be a number ${range}` };
    },
    format: String,
  };
}

/** A whole number too large for a double, e.g. a 64-bit seed. */
export function bigInteger(options: { readonly max: bigint; readonly example: string }): OptionKind<bigint> {
  return {
    placeholder: 'S',
    example: options.example,
    parse: (text) => {
      const value = /^\d+$/.test(text.trim()) ? BigInt(text.trim()) : -1n;
      return value >= 0n && value <= options.max
        ? { value }
        : { problem: `must be a whole number from 0 to ${options.max}` };
    },
    format: String,
  };
}

/** Any non-empty text: a path, a name, a host. */
export function text(options: {
  readonly placeholder: string;
  readonly example: string;
}): OptionKind<string> {
  return {
    placeholder: options.placeholder,
    example: options.example,
    parse: (value) => ({ value }),
    format: String,
  };
}

/** One of a few words. */
export function choice<const T extends string>(
  values: readonly T[],
  options: { readonly placeholder?: string } = {},
): OptionKind<T> {
  const words = values.length === 2 ? `${values[0]} or ${values[1]}` : `one of ${values.join(', ')}`;
  return {
    placeholder: options.placeholder ?? 'NAME',
    example: values[0]!,
    parse: (text) => {
      const value = values.find((candidate) => candidate === text.trim());
      return value === undefined ? { problem: `use ${words}` } : { value };
    },
    format: String,
  };
}

/** Z,Y,X sizes, each an integer >= min. */
export function triple(options: {
  readonly min: number;
  readonly placeholder?: string;
  readonly example: string;
}): OptionKind<Triple> {
  return {
    placeholder: options.placeholder ?? 'Z,Y,X',
    example: options.example,
    parse: (text): KindResult<Triple> => {
      const parsed = parseTriple(text, options.min);
      return isTriple(parsed) ? { value: parsed } : parsed;
    },
    format: (value) => value.join(','),
  };
}

/** `2GiB`, `512MiB`, `2Gi`, `1.5GB` or plain bytes, from `min` to `max` bytes. */
export function byteSize(options: {
  readonly min?: number;
  readonly max?: number;
  readonly example: string;
}): OptionKind<number> {
  const min = options.min ?? 1;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const range =
    max === Number.MAX_SAFE_INTEGER
      ? `at least ${formatBytes(min).replace(/^1 B$/, '1 byte')}`
      : `from ${formatBytes(min).replace(/^1 B$/, '1 byte')} to ${formatBytes(max)}`;
  return {
    placeholder: 'SIZE',
    example: options.example,
    parse: (text) => {
      const value = parseByteSize(text);
      if (value === null) return { problem: 'not a byte size; write e.g. 2GiB, 512MiB or 1073741824' };
      return value >= min && value <= max ? { value } : { problem: `must be ${range}` };
    },
    format: formatByteSizeShort,
  };
}

/** 2147483648 as `2GiB`, 268435456 as `256MiB`: the way byte sizes are written on a command line. */
export function formatByteSizeShort(bytes: number): string {
  for (const [unit, size] of [
    ['TiB', 1024 ** 4],
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** A share of a whole: 0.1 or 10%. */
export function share(options: { readonly example: string }): OptionKind<number> {
  return {
    placeholder: 'SHARE',
    example: options.example,
    parse: (text) => {
      const value = parseShare(text);
      return value === null ? { problem: 'must be a share from 0 to 1 (or 0% to 100%)' } : { value };
    },
    format: String,
  };
}

/** A server to dial: HOST:PORT, [IPv6]:PORT or dns:///NAME:PORT, port 1..65535; the value is the text. */
export function address(options: {
  readonly example: string;
  readonly parse: AddressParser;
}): OptionKind<string> {
  return {
    placeholder: 'HOST:PORT',
    example: options.example,
    parse: (text) => {
      const parsed = options.parse(text.trim());
      return 'problem' in parsed ? parsed : { value: text.trim() };
    },
    format: String,
  };
}

/** Addresses separated by commas (replicas of one service), each as `address` reads it. */
export function addressList(options: {
  readonly example: string;
  readonly parse: AddressParser;
}): OptionKind<readonly string[]> {
  return {
    placeholder: 'HOST:PORT[,HOST:PORT...]',
    example: options.example,
    parse: (text) => {
      const entries = text
        .split(',')
        .map((entry) => entry.trim())
        .filter(Boolean);
      if (entries.length === 0) return { problem: 'give at least one address' };
      const problems = entries.flatMap((entry) => {
        const parsed = options.parse(entry);
        if (!('problem' in parsed)) return [];
        return entries.length === 1 ? [parsed.problem] : [`${entry}: ${parsed.problem}`];
      });
      return problems.length === 0 ? { value: entries } : { problem: problems.join('; ') };
    },
    format: (value) => value.join(','),
  };
}
