import { command, option, repeatedOption } from '../../common/cli/command-spec.js';
import { formatHelp } from '../../common/cli/format-help.js';
import { byteSize, choice, decimal, integer, text, triple } from '../../common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '../../common/cli/parse-command-line.js';
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

/** A duration in seconds from `min` to `max`. */
const seconds = (min: number, max: number, example: string) =>
  decimal({ min, max, placeholder: 'S', example });

/** `npm run soak`: its options, defaults and help lines. */
export const SOAK_COMMAND = command({
  name: 'npm run soak --',
  usage: 'Usage: node --import tsx bench/soak/main.ts [--minutes 10] [--streams 8] [options]',
  summary: `A bounded soak of the data server: starts \`voxelfeed serve\` as its own process with a cache much smaller
than the data set, measures its idle RSS, then keeps --streams trainer-like streams (ranks 0..N-1 of one
world, one connection each) streaming epoch after epoch over loopback for --minutes. Every --sample-seconds
it reads the server's RSS (/proc/PID/status) and the crops received. Prints a table over time, the memory
slope over the second half (least squares, MiB per minute), the largest RSS against the bound
(idle RSS + cache + allowance), and one JSON line. The allowance is 128 MiB of working memory plus what the
server's limits let the streams hold: volumes being loaded (the cache bounds only the volumes it keeps; at
most the server's --max-loads, 4, at once, about 3 bytes per voxel each) and encoded batches. Exit status 1
when the bound is exceeded, a stream failed or stalled, or the server logged an error or did not shut down
cleanly.`,
  options: {
    minutes: option({
      kind: decimal({ min: 0.001, max: 1440, placeholder: 'M', example: '10' }),
      default: 10,
      help: 'how long to stream, above 0 and up to 1440',
    }),
    streams: option({
      kind: integer({ min: 1, max: 64, example: '8' }),
      default: 8,
      help: 'concurrent streams, 1..64',
    }),
    'cache-bytes': option({
      kind: byteSize({ example: '32MiB' }),
      default: DEFAULT_CACHE_BYTES,
      help: "the server's --cache-bytes",
    }),
    data: option({
      kind: text({ placeholder: 'PATH', example: './data/luna16' }),
      default: null,
      help: `an existing data set (default: a phantom set of ${DATA_TO_CACHE_RATIO} x the cache, decoded, written once under .voxelfeed/bench)`,
    }),
    shape: option({
      kind: triple({ min: 16, placeholder: 'S0,S1,S2', example: '64,128,128' }),
      default: DEFAULT_SHAPE,
      help: 'volume shape of the generated set',
    }),
    'batch-size': option({
      kind: integer({ min: 1, max: 256, example: '8' }),
      default: 8,
      help: 'crops per batch, 1..256',
    }),
    crop: option({
      kind: triple({ min: 1, placeholder: 'S0,S1,S2', example: '16,96,96' }),
      default: [16, 96, 96],
      help: 'crop size',
    }),
    'sample-seconds': option({
      kind: seconds(0.1, 60, '5'),
      default: 5,
      help: 'time between samples, 0.1..60',
    }),
    'idle-seconds': option({
      kind: seconds(0, 3600, '10'),
      default: 10,
      help: "keep sampling this long after the streams stop, 0..3600 ({default}): the server's RSS then must fall back under idle + cache + its idle allowance",
    }),
    'stall-seconds': option({
      kind: seconds(0.1, 600, '30'),
      default: null,
      help: 'a stream that receives no batch for this long has stalled, 0.1..600 (default: the sample interval)',
    }),
    'serve-arg': repeatedOption({
      kind: text({ placeholder: 'FLAG', example: '--batch-memory=256MiB' }),
      help: 'pass FLAG to voxelfeed serve (repeatable; write the =), e.g. --serve-arg=--batch-memory=256MiB',
    }),
    profile: option({
      kind: choice(Object.keys(SOAK_PROFILES) as ProfileName[]),
      default: null,
      help: 'defaults for a scenario; flags given beside it win. burst: --streams 32 --batch-size 64 --minutes 2 --idle-seconds 60 --sample-seconds 2 --stall-seconds 30 (18.9 MB messages: each stream waits seconds for its next)',
    }),
  },
});

export const SOAK_HELP = formatHelp(SOAK_COMMAND);

/** Reads the command line, a --profile's values under the flags given; every problem at once in one UsageError. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | 'help' {
  const plain = parseCommandLine(SOAK_COMMAND, argv, {});
  if (plain === 'help') return 'help';
  const profile = plain.values.profile;
  const line =
    profile === null
      ? plain
      : (parseCommandLine(
          SOAK_COMMAND,
          argv,
          {},
          {
            label: `--profile ${profile}`,
            texts: SOAK_PROFILES[profile],
          },
        ) as typeof plain);
  throwIfProblems(SOAK_COMMAND, line.problems);
  const { values } = line;
  return {
    minutes: values.minutes,
    streams: values.streams,
    cacheBytes: values['cache-bytes'],
    data: values.data,
    series: seriesForCache(values['cache-bytes'], values.shape),
    shape: values.shape,
    batchSize: values['batch-size'],
    crop: values.crop,
    sampleSeconds: values['sample-seconds'],
    idleSeconds: values['idle-seconds'],
    stallSeconds: values['stall-seconds'] ?? values['sample-seconds'],
    serverArgs: values['serve-arg'],
  };
}
