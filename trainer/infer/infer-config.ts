import { DEFAULT_RECONNECT, parseAddress } from '@voxelfeed/client';
import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import type { OptionKind } from '@voxelfeed/common/cli/option-kind.js';
import { address, choice, decimal, integer, text, triple } from '@voxelfeed/common/cli/option-kinds.js';
import {
  type CommandLine,
  parseCommandLine,
  throwIfProblems,
} from '@voxelfeed/common/cli/parse-command-line.js';
import { BACKEND_PREFERENCES, type BackendPreference } from '../backend/backend-preference.js';
import { FEED_SECURITY_OPTIONS, type FeedTlsFiles, feedTlsFiles } from '../config/feed-connection-options.js';

export type InferWeighting = 'gaussian' | 'constant';
export type InferEncoding = 'gzip' | 'raw';

/** What predicts the tiles: a trainer checkpoint's V-Net, or the identity (voxel / 255) for tests and benchmarks. */
export type InferModel =
  | { readonly kind: 'checkpoint'; readonly dir: string }
  | { readonly kind: 'identity' };

export interface InferConfig {
  /** host:port or dns:///NAME:PORT of the server. */
  readonly server: string;
  readonly model: InferModel;
  readonly outDir: string;
  /** The series to predict, in this order; null: the held-out series. */
  readonly series: readonly string[] | null;
  /** The held-out share to predict (SPLIT_PART_HOLDOUT); null: the checkpoint's, when it records one. */
  readonly holdoutFraction: number | null;
  /** null: the checkpoint's training crop (16,96,96 for the identity model). */
  readonly tileSize: readonly [number, number, number] | null;
  /** Per axis (s0, s1, s2), each 0 <= o < 1. */
  readonly overlap: readonly [number, number, number];
  readonly weighting: InferWeighting;
  readonly batchSize: number;
  /** null: probabilities as uint8 0..255; t: a 0/1 mask of p >= t. */
  readonly threshold: number | null;
  readonly encoding: InferEncoding;
  /** null: the checkpoint's data set (else the server's default). */
  readonly dataset: string | null;
  readonly backend: BackendPreference;
  readonly tls: FeedTlsFiles | null;
  readonly authTokenFile: string | null;
  readonly reconnectAttempts: number;
  /** Progress on stderr (bars on a terminal, periodic lines otherwise); false: none. */
  readonly progress: boolean;
}

/** The tile of `--model identity` when no --tile is given: the trainer's default crop. */
export const IDENTITY_DEFAULT_TILE: readonly [number, number, number] = [16, 96, 96];

/** Series uids separated by commas: each non-empty, none twice. */
function uidList(): OptionKind<readonly string[]> {
  return {
    placeholder: 'UID[,UID...]',
    example: '1.3.6.1.4.1.14519.5.2.1.6279.6001.100225287222365663678666836860',
    parse: (value) => {
      const uids = value.split(',').map((uid) => uid.trim());
      if (uids.some((uid) => uid === ''))
        return { problem: 'give series uids separated by commas, none empty' };
      const twice = uids.find((uid, i) => uids.indexOf(uid) !== i);
      if (twice !== undefined) return { problem: `series ${twice} is named twice; name each series once` };
      return { value: uids };
    },
    format: (uids) => uids.join(','),
  };
}

/** One overlap for every axis (`0.5`) or one per axis (`0.5,0.25,0.25`), each from 0 up to (not including) 1. */
function overlapKind(): OptionKind<readonly [number, number, number]> {
  return {
    placeholder: 'O|O0,O1,O2',
    example: '0.5',
    parse: (value) => {
      const parts = value.split(',').map((part) => part.trim());
      const numbers = parts.map((part) =>
        /^(\d+(\.\d*)?|\.\d+)(e[-+]?\d+)?$/i.test(part) ? Number(part) : Number.NaN,
      );
      if ((numbers.length !== 1 && numbers.length !== 3) || !numbers.every((o) => o >= 0 && o < 1)) {
        return {
          problem: 'give one share for every axis or three (s0,s1,s2), each at least 0 and below 1',
        };
      }
      const [o0, o1 = o0, o2 = o0] = numbers as [number, number?, number?];
      return { value: [o0, o1, o2] };
    },
    format: (overlap) => (new Set(overlap).size === 1 ? String(overlap[0]) : overlap.join(',')),
  };
}

/** `voxelfeed infer`: its options, variables, defaults and help lines. */
export const INFER_COMMAND = command({
  name: 'voxelfeed infer',
  usage:
    'Usage: voxelfeed infer --server HOST:PORT (--checkpoint DIR | --model identity) --out DIR [options]',
  summary: `Predicts whole scans: streams every tile of each series from a voxelfeed server (StreamTiles), predicts
the tiles with the checkpoint's V-Net, merges overlapping predictions with a Gaussian or constant weighting,
slab by slab, and writes OUT/<uid>_pred.nrrd per series (probabilities as uint8 0..255, or a 0/1 mask with
--threshold), in the input image's axis order, sizes and spacing.`,
  options: {
    server: option({
      kind: address({ example: '127.0.0.1:50051', parse: parseAddress }),
      default: '127.0.0.1:50051',
      variable: 'VOXELFEED_SERVER',
      help: 'the data server, HOST:PORT or dns:///NAME:PORT ({default})',
    }),
    checkpoint: option({
      kind: text({ placeholder: 'DIR', example: './ckpt' }),
      default: null,
      help: "a voxelfeed train --checkpoint-dir: its latest checkpoint's V-Net predicts",
    }),
    model: option({
      kind: choice(['identity'] as const, { placeholder: 'identity' }),
      default: null,
      help: 'identity: prediction = voxel / 255, no checkpoint (tests, benchmarks)',
    }),
    out: option({
      kind: text({ placeholder: 'DIR', example: './pred' }),
      default: null,
      help: 'write <uid>_pred.nrrd files here (created if absent)',
    }),
    series: option({
      kind: uidList(),
      default: null,
      help: 'these series, in this order (default: the held-out series)',
    }),
    holdout: option({
      kind: decimal({ min: 0, max: 0.9, aboveMin: true, placeholder: 'F', example: '0.2' }),
      default: null,
      help: "predict the series held out at this share (the trainer's --holdout); default: the share the checkpoint was trained with",
    }),
    tile: option({
      kind: triple({ min: 1, example: '16,96,96' }),
      default: null,
      help: "tile size in NRRD axis order (default: the checkpoint's training crop; 16,96,96 with --model identity)",
    }),
    overlap: option({
      kind: overlapKind(),
      default: [0.5, 0.5, 0.5],
      help: "share of a tile its neighbours overlap, one for every axis or s0,s1,s2 ({default}, nnU-Net's)",
    }),
    weighting: option({
      kind: choice(['gaussian', 'constant'] as const, { placeholder: 'gaussian|constant' }),
      default: 'gaussian',
      help: 'importance of a voxel by its place in the tile: gaussian (sigma = tile/8, nnU-Net) or constant ({default})',
    }),
    'batch-size': option({
      kind: integer({ min: 1, max: 4096, placeholder: 'N', example: '4' }),
      default: 4,
      help: 'tiles per message and per prediction ({default})',
    }),
    threshold: option({
      kind: decimal({ min: 0, max: 1, aboveMin: true, placeholder: 'T', example: '0.5' }),
      default: null,
      help: 'write a 0/1 mask of probability >= T instead of probabilities',
    }),
    encoding: option({
      kind: choice(['gzip', 'raw'] as const, { placeholder: 'gzip|raw' }),
      default: 'gzip',
      help: 'NRRD data encoding ({default})',
    }),
    dataset: option({
      kind: text({ placeholder: 'NAME', example: 'luna16' }),
      default: null,
      variable: 'VOXELFEED_DATASET',
      help: "data set name (default: the checkpoint's, else the server's default)",
    }),
    backend: option({
      kind: choice(BACKEND_PREFERENCES),
      default: 'auto',
      variable: 'VOXELFEED_BACKEND',
      help: 'auto, tensorflow, wasm or cpu (as voxelfeed train)',
    }),
    progress: option({
      kind: choice(['on', 'off'] as const, { placeholder: 'on|off' }),
      default: 'on',
      help: 'progress on stderr: bars on a terminal, a line every few seconds otherwise ({default})',
    }),
    'reconnect-attempts': option({
      kind: integer({ min: 1, max: 1_000_000, example: '20' }),
      default: DEFAULT_RECONNECT.maxAttempts,
      variable: 'VOXELFEED_RECONNECT_ATTEMPTS',
      help: 'give up after N failed connection attempts in a row ({default}); a stream resumes at its next tile',
    }),
    ...FEED_SECURITY_OPTIONS,
  },
  notes: `Which series: --series, else the series held out at --holdout, else at the share recorded in the
checkpoint (voxelfeed train --validate-every N --holdout F records F; a checkpoint trained on every series
records 0 and needs --series or --holdout).

Prints one table row per series and one JSON summary line on stdout.`,
});

export const INFER_HELP = formatHelp(INFER_COMMAND);

/**
 * Reads flags, then VOXELFEED_* variables, then defaults (INFER_COMMAND); every problem is reported in one
 * UsageError, including those between options (--checkpoint with --model, --series with --holdout).
 */
export function parseInferConfig(argv: readonly string[], env: NodeJS.ProcessEnv): InferConfig | 'help' {
  const line = parseCommandLine(INFER_COMMAND, argv, env);
  if (line === 'help') return 'help';
  const { values, problems } = line;
  const model = inferModel(line, problems);
  if (values.out === null) {
    problems.push('missing --out DIR, the folder to write <uid>_pred.nrrd into; e.g. --out ./pred');
  }
  if (values.series !== null && values.holdout !== null) {
    problems.push(
      `${line.shown('series')} with ${line.shown('holdout')}: --series names the series, --holdout picks the held-out ones; give one`,
    );
  }
  const config: InferConfig = {
    server: values.server,
    model: model ?? { kind: 'identity' },
    outDir: values.out ?? '',
    series: values.series,
    holdoutFraction: values.holdout,
    tileSize: values.tile,
    overlap: values.overlap,
    weighting: values.weighting,
    batchSize: values['batch-size'],
    threshold: values.threshold,
    encoding: values.encoding,
    dataset: values.dataset,
    backend: values.backend,
    tls: feedTlsFiles(line, problems),
    authTokenFile: values['auth-token-file'],
    reconnectAttempts: values['reconnect-attempts'],
    progress: values.progress === 'on',
  };
  throwIfProblems(INFER_COMMAND, problems);
  return config;
}

function inferModel(line: CommandLine<typeof INFER_COMMAND.options>, problems: string[]): InferModel | null {
  const { checkpoint, model } = line.values;
  if (checkpoint !== null && model !== null) {
    problems.push(
      `${line.shown('checkpoint')} with ${line.shown('model')}: give a checkpoint or the identity model, not both`,
    );
    return null;
  }
  if (checkpoint !== null) return { kind: 'checkpoint', dir: checkpoint };
  if (model !== null) return { kind: model };
  problems.push(
    'missing --checkpoint DIR (a voxelfeed train --checkpoint-dir) or --model identity; e.g. --checkpoint ./ckpt',
  );
  return null;
}
