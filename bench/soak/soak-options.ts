import { parseArgs } from 'node:util';
import { UsageError } from '../../common/usage-error.js';
import { formatBytes, parseByteSize } from '../../common/cli/parse-byte-size.js';
import type { Shape3 } from '../../server/sampling/types.js';

export interface SoakOptions {
  readonly minutes: number;
  readonly streams: number;
  readonly cacheBytes: number;
  /** An existing data set; null: a phantom set of `series` x `shape`, written once under .voxelfeed/bench. */
  readonly data: string | null;
  readonly series: number;
  readonly shape: Shape3;
  readonly batchSize: number;
  readonly crop: Shape3;
  readonly sampleSeconds: number;
  /** Seconds of sampling after the streams stop, to see memory fall back. */
  readonly idleSeconds: number;
  /** A stream without a batch for this long fails the soak; at least the sample interval. */
  readonly stallSeconds: number;
  /** Extra `voxelfeed serve` flags (--serve-arg, repeatable). */
  readonly serverArgs: readonly string[];
}

/**
 * Named sets of defaults; flags given beside a profile win over its values. `burst`: many trainers with large
 * batches (32 streams of 64 crops 16x96x96 with masks, 18.9 MB messages) for 2 minutes, then 60 s without
 * traffic, to show that the server's memory is bounded by its batch memory budget, not by streams x batch
 * size, and falls back once traffic stops.
 */
export const SOAK_PROFILES = {
  burst: {
    minutes: '2',
    streams: '32',
    'batch-size': '64',
    'idle-seconds': '60',
    'sample-seconds': '2',
    'stall-seconds': '30',
  },
} as const satisfies Record<string, Record<string, string>>;
type ProfileName = keyof typeof SOAK_PROFILES;

/** How many times the cache the generated data set holds, decoded: every epoch must evict all the time. */
export const DATA_TO_CACHE_RATIO = 20;
const DEFAULT_CACHE_BYTES = 32 * 1024 ** 2;
const DEFAULT_SHAPE: Shape3 = [64, 128, 128];

/** Enough series of `shape` for DATA_TO_CACHE_RATIO times the cache (image + mask, uint8). */
export function seriesForCache(cacheBytes: number, shape: Shape3): number {
  return Math.ceil((DATA_TO_CACHE_RATIO * cacheBytes) / (2 * shape[0] * shape[1] * shape[2]));
}

export const SOAK_HELP = `Usage: node --import tsx bench/soak/main.ts [--minutes 10] [--streams 8] [options]

A bounded soak of the data server: starts \`voxelfeed serve\` as its own process with a cache much smaller
than the data set, measures its idle RSS, then keeps --streams trainer-like streams (ranks 0..N-1 of one
world, one connection each) streaming epoch after epoch over loopback for --minutes. Every --sample-seconds
it reads the server's RSS (/proc/PID/status) and the crops received. Prints a table over time, the memory
slope over the second half (least squares, MiB per minute), the largest RSS against the bound
(idle RSS + cache + allowance), and one JSON line. The allowance is 128 MiB of working memory plus what the
server's limits let the streams hold: volumes being loaded (the cache bounds only the volumes it keeps; at
most the server's --max-loads, 4, at once, about 3 bytes per voxel each) and encoded batches. Exit status 1
when the bound is exceeded, a stream failed or stalled, or the server logged an error or did not shut down
cleanly.

Options:
  --minutes M          how long to stream, above 0 and up to 1440 (default 10)
  --streams N          concurrent streams, 1..64 (default 8)
  --cache-bytes SIZE   the server's --cache-bytes (default ${formatBytes(DEFAULT_CACHE_BYTES)})
  --data PATH          an existing data set (default: a phantom set of ${DATA_TO_CACHE_RATIO} x the cache, decoded,
                       written once under .voxelfeed/bench)
  --shape S0,S1,S2     volume shape of the generated set (default ${DEFAULT_SHAPE.join(',')})
  --batch-size N       crops per batch, 1..256 (default 8)
  --crop S0,S1,S2      crop size (default 16,96,96)
  --sample-seconds S   time between samples, 0.1..60 (default 5)
  --idle-seconds S     keep sampling this long after the streams stop, 0..3600 (default 10): the
                       server's RSS then must fall back under idle + cache + its idle allowance
  --stall-seconds S    a stream that receives no batch for this long has stalled, 0.1..600
                       (default: the sample interval)
  --serve-arg=FLAG     pass FLAG to voxelfeed serve (repeatable; write the =), e.g.
                       --serve-arg=--batch-memory=256MiB
  --profile NAME       defaults for a scenario; flags given beside it win. burst: --streams 32
                       --batch-size 64 --minutes 2 --idle-seconds 60 --sample-seconds 2
                       --stall-seconds 30 (18.9 MB messages: each stream waits seconds for its next)
  -h, --help           show this text`;

export function parseSoakOptions(argv: readonly string[]): SoakOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      minutes: { type: 'string' },
      streams: { type: 'string' },
      'cache-bytes': { type: 'string' },
      data: { type: 'string' },
      shape: { type: 'string' },
      'batch-size': { type: 'string' },
      crop: { type: 'string' },
      'sample-seconds': { type: 'string' },
      'idle-seconds': { type: 'string' },
      'stall-seconds': { type: 'string' },
      'serve-arg': { type: 'string', multiple: true },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const problems: string[] = [];
  if (positionals.length > 0) problems.push(`unexpected argument "${positionals[0]}"; options start with --`);
  let profile: Readonly<Record<string, string>> = {};
  if (values.profile !== undefined) {
    if (Object.hasOwn(SOAK_PROFILES, values.profile)) {
      profile = SOAK_PROFILES[values.profile as ProfileName];
    } else {
      problems.push(`--profile ${values.profile}: use one of ${Object.keys(SOAK_PROFILES).join(', ')}`);
    }
  }
  // A flag given wins over the profile's value for it.
  const given = (name: keyof typeof values & string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : profile[name];
  };
  const number = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
    if (!(value >= min && value <= max)) {
      problems.push(`--${name} ${text}: use a number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const integer = (name: string, text: string | undefined, fallback: number, max: number) => {
    const value = number(name, text, fallback, 1, max);
    if (!Number.isInteger(value)) {
      problems.push(`--${name} ${text}: use a whole number`);
      return fallback;
    }
    return value;
  };
  const triple = (name: string, text: string | undefined, fallback: Shape3, min: number): Shape3 => {
    if (text === undefined) return fallback;
    const sizes = text.split(',').map((part) => (/^\d+$/.test(part.trim()) ? Number(part) : Number.NaN));
    if (sizes.length !== 3 || sizes.some((size) => !Number.isSafeInteger(size) || size < min)) {
      problems.push(`--${name} ${text}: give 3 integers >= ${min}, e.g. ${fallback.join(',')}`);
      return fallback;
    }
    return [sizes[0]!, sizes[1]!, sizes[2]!];
  };
  let cacheBytes = DEFAULT_CACHE_BYTES;
  if (values['cache-bytes'] !== undefined) {
    const parsed = parseByteSize(values['cache-bytes']);
    if (parsed === null || parsed < 1) {
      problems.push(`--cache-bytes ${values['cache-bytes']}: write a byte size, e.g. 32MiB`);
    } else {
      cacheBytes = parsed;
    }
  }
  const shape = triple('shape', values.shape, DEFAULT_SHAPE, 16);
  const sampleSeconds = number('sample-seconds', given('sample-seconds'), 5, 0.1, 60);
  const options: SoakOptions = {
    minutes: number('minutes', given('minutes'), 10, 0.001, 1440),
    streams: integer('streams', given('streams'), 8, 64),
    cacheBytes,
    data: values.data ?? null,
    series: seriesForCache(cacheBytes, shape),
    shape,
    batchSize: integer('batch-size', given('batch-size'), 8, 256),
    crop: triple('crop', values.crop, [16, 96, 96], 1),
    sampleSeconds,
    idleSeconds: idleSeconds(given('idle-seconds'), problems),
    stallSeconds: number('stall-seconds', given('stall-seconds'), sampleSeconds, 0.1, 600),
    serverArgs: values['serve-arg'] ?? [],
  };
  if (problems.length > 0) throw new UsageError(`${problems.join('\n')}\nRun with --help for usage.`);
  return options;
}

/** `--idle-seconds`: 0 is allowed (no idle phase), unlike the other durations. */
function idleSeconds(text: string | undefined, problems: string[]): number {
  if (text === undefined) return 10;
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 3600)) {
    problems.push(`--idle-seconds ${text}: use a number from 0 to 3600`);
    return 10;
  }
  return value;
}
