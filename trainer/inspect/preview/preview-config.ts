import { DEFAULT_RECONNECT, parseAddress, type StreamBatchesInput } from '@voxelfeed/client';
import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import type { OptionKind } from '@voxelfeed/common/cli/option-kind.js';
import { address, flag, integer, text } from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';
import {
  FEED_SECURITY_OPTIONS,
  type FeedTlsFiles,
  feedTlsFiles,
} from '../../config/feed-connection-options.js';
import { BATCH_REQUEST_OPTIONS, batchRequestInput } from '../batch-request-options.js';
import { isLoopbackHost, type ServeAddress, serveAddress } from './serve-address.js';

/** Where the preview goes: PNG files, or the crop browser. */
export type PreviewOutput =
  | { readonly kind: 'files'; readonly outDir: string }
  | { readonly kind: 'serve'; readonly address: ServeAddress; readonly public: boolean };

export interface PreviewConfig {
  readonly server: string;
  /** The StreamBatches request (mask included); with `indices`, its crop fields make the GetSample requests. */
  readonly request: StreamBatchesInput;
  /** Plan positions to fetch one by one (GetSample); null: the request's steps. */
  readonly indices: readonly number[] | null;
  /** Every K-th slice along axis 0. */
  readonly every: number;
  /** Pixels per voxel side in the montages. */
  readonly scale: number;
  readonly output: PreviewOutput;
  readonly tls: FeedTlsFiles | null;
  readonly authTokenFile: string | null;
  readonly reconnectAttempts: number;
}

/** Most plan positions one --indices takes: each is a file and a call. */
export const MAX_INDICES = 1000;

/** Plan positions separated by commas: whole numbers, none twice, at most MAX_INDICES. */
function indexList(): OptionKind<readonly number[]> {
  return {
    placeholder: 'I,J,...',
    example: '0,5,12',
    parse: (value) => {
      const parts = value.split(',').map((part) => part.trim());
      if (!parts.every((part) => /^\d+$/.test(part) && Number.isSafeInteger(Number(part)))) {
        return { problem: 'give plan positions (whole numbers from 0) separated by commas' };
      }
      const indices = parts.map(Number);
      const twice = indices.find((index, i) => indices.indexOf(index) !== i);
      if (twice !== undefined) return { problem: `position ${twice} is given twice; give each once` };
      if (indices.length > MAX_INDICES) {
        return { problem: `${indices.length} positions; give at most ${MAX_INDICES} per run` };
      }
      return { value: indices };
    },
    format: (indices) => indices.join(','),
  };
}

/** The options StreamBatches steps ignore when --indices names the samples. */
const STEP_OPTIONS = ['start-step', 'steps', 'rank', 'world-size', 'batch'] as const;

/** `voxelfeed preview`: its options, variables, defaults and help lines. */
export const PREVIEW_COMMAND = command({
  name: 'voxelfeed preview',
  usage: 'Usage: voxelfeed preview --server HOST:PORT (--out DIR | --serve HOST:PORT) [request options]',
  summary: `Shows the crops a voxelfeed server serves for a request, with their masks. With --out, writes one PNG
montage per batch (step-K.png; per sample, sample-I.png, with --indices): for each sample a row of slices
along axis 0 in grey levels, the mask's contour in red, a cyan cross on the nodule's centre (on the shown
slice nearest it), and a caption: plan position, series, mode, crop origin, nodule and its diameter in
voxels, foreground voxels. With --serve, runs the crop browser instead: a local web page to pick a step and
a sample, scroll slices (arrow keys, mouse wheel), toggle the mask (m) and read each sample's record and
the batch's statistics.`,
  options: {
    server: option({
      kind: address({ example: '127.0.0.1:50051', parse: parseAddress }),
      default: '127.0.0.1:50051',
      variable: 'VOXELFEED_SERVER',
      help: 'the data server, HOST:PORT or dns:///NAME:PORT ({default})',
    }),
    out: option({
      kind: text({ placeholder: 'DIR', example: './preview' }),
      default: null,
      help: 'write the PNG montages here (created if absent)',
    }),
    serve: option({
      kind: serveAddress(),
      default: null,
      help: 'serve the crop browser here instead (PORT alone: 127.0.0.1; 0: a free port, printed)',
    }),
    'serve-public': option({
      kind: flag(),
      default: false,
      help: 'let --serve listen on an address other machines reach (they see the crops, without a token)',
    }),
    ...BATCH_REQUEST_OPTIONS,
    steps: option({
      kind: integer({ min: 0, max: Number.MAX_SAFE_INTEGER, example: '4' }),
      default: 1,
      defaultText: '1, with --serve the whole epoch',
      help: 'steps to show from --start-step, 0: to the end of the epoch (default 1; with --serve, the whole epoch)',
    }),
    indices: option({
      kind: indexList(),
      default: null,
      help: 'these plan positions instead of steps, one GetSample each (not with --start-step, --steps, --rank, --world-size, --batch)',
    }),
    every: option({
      kind: integer({ min: 1, max: 4096, placeholder: 'K', example: '2' }),
      default: 1,
      help: 'show every K-th slice along axis 0 from slice 0 ({default}: all)',
    }),
    scale: option({
      kind: integer({ min: 1, max: 16, example: '2' }),
      default: 1,
      help: 'pixels per voxel side in the montages ({default})',
    }),
    'reconnect-attempts': option({
      kind: integer({ min: 1, max: 1_000_000, example: '20' }),
      default: DEFAULT_RECONNECT.maxAttempts,
      variable: 'VOXELFEED_RECONNECT_ATTEMPTS',
      help: 'give up after N failed connection attempts in a row ({default})',
    }),
    ...FEED_SECURITY_OPTIONS,
  },
  notes: `The request options are those of voxelfeed train: pass a run's flags to see exactly its crops.

With --out, prints the path of each file it writes, then one JSON summary line, on stdout.
With --serve, prints "crop browser at http://HOST:PORT/" and serves until Ctrl-C or SIGTERM. Only this
process talks to the server; the page asks it for slices as PNG and records as JSON.`,
});

export const PREVIEW_HELP = formatHelp(PREVIEW_COMMAND);

/**
 * Reads flags, then VOXELFEED_* variables, then defaults (PREVIEW_COMMAND); every problem is reported in one
 * UsageError, including those between options (--out with --serve, --indices with step options, a
 * non-loopback --serve without --serve-public).
 */
export function parsePreviewConfig(argv: readonly string[], env: NodeJS.ProcessEnv): PreviewConfig | 'help' {
  const line = parseCommandLine(PREVIEW_COMMAND, argv, env);
  if (line === 'help') return 'help';
  const { values, problems } = line;
  const request = batchRequestInput(line, problems);
  const output = previewOutput(
    values.out,
    values.serve,
    values['serve-public'],
    () => line.shown('serve'),
    problems,
  );
  if (values.indices !== null) {
    const given = STEP_OPTIONS.filter((name) => line.settings[name] !== null).map((name) => line.shown(name));
    if (given.length > 0) {
      problems.push(
        `${line.shown('indices')} with ${given.join(', ')}: --indices names the samples, the step options pick them by step; give one`,
      );
    }
  }
  const wholeEpoch = output.kind === 'serve' && line.settings.steps === null;
  const config: PreviewConfig = {
    server: values.server,
    request: { ...request, maxSteps: wholeEpoch ? 0 : values.steps },
    indices: values.indices,
    every: values.every,
    scale: values.scale,
    output,
    tls: feedTlsFiles(line, problems),
    authTokenFile: values['auth-token-file'],
    reconnectAttempts: values['reconnect-attempts'],
  };
  throwIfProblems(PREVIEW_COMMAND, problems);
  return config;
}

function previewOutput(
  out: string | null,
  serve: ServeAddress | null,
  isPublic: boolean,
  serveShown: () => string,
  problems: string[],
): PreviewOutput {
  if (out !== null && serve !== null) {
    problems.push('--out with --serve: --out writes PNG files, --serve runs the crop browser; give one');
  }
  if (serve !== null) {
    if (!isLoopbackHost(serve.host) && !isPublic) {
      problems.push(
        `${serveShown()}: other machines could reach the crop browser and see the data set's crops without a token; serve on 127.0.0.1 (the default host), or add --serve-public to do so on purpose`,
      );
    }
    return { kind: 'serve', address: serve, public: isPublic };
  }
  if (out === null) {
    problems.push(
      'missing --out DIR (the folder for the PNG montages) or --serve HOST:PORT (the crop browser); e.g. --out ./preview',
    );
  }
  return { kind: 'files', outDir: out ?? '' };
}
