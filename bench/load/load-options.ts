import { parseAddress } from '../../client/index.js';
import { command, option } from '../../common/cli/command-spec.js';
import { formatHelp } from '../../common/cli/format-help.js';
import { address, choice, decimal, flag, integer, text, triple } from '../../common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '../../common/cli/parse-command-line.js';
import { MAX_NEGATIVES_PER_EPOCH } from '../../server/sampling/sampling-policy.js';
import type { Shape3 } from '../../server/sampling/types.js';

export type LoadCall = 'get-sample' | 'stream-batches';

/** One bounded load run: `concurrency` calls at a time until `total` calls finished or `durationSeconds`. */
export interface LoadOptions {
  /** `host:port` of the server to load; null starts one in this process (embedded phantom data set). */
  readonly target: string | null;
  readonly call: LoadCall;
  readonly concurrency: number;
  readonly total: number;
  readonly durationSeconds: number;
  /** Crops per batch of a stream-batches call (GetSample always answers a batch of one). */
  readonly batchSize: number;
  /** Batches per stream-batches call (the request's max_steps). */
  readonly steps: number;
  readonly crop: Shape3;
  /** Data set name in requests; '' asks for the server's default. */
  readonly dataset: string;
  /** false with --no-ghz: never hand the run to ghz. */
  readonly useGhz: boolean;
}

export const LOAD_LIMITS = {
  maxConcurrency: 1024,
  maxTotal: 10_000_000,
  maxDurationSeconds: 3600,
  maxBatchSize: 4096,
  maxSteps: 100_000,
} as const;

/** `npm run load`: its options, defaults and help lines. */
export const LOAD_COMMAND = command({
  name: 'npm run load --',
  usage: `Usage: npm run load -- [options]
       node --import tsx bench/load/main.ts [options]`,
  summary: `A bounded load test of a voxelfeed server over gRPC: --concurrency calls in flight until --total calls have
finished or --duration has passed, whichever comes first (with ghz: for --duration, see below). Prints a
table, then one JSON line.`,
  strayHint: () => 'e.g. --target 127.0.0.1:50051',
  options: {
    target: option({
      kind: address({ example: '127.0.0.1:50051', parse: parseAddress }),
      default: null,
      help: "the server to load, HOST:PORT or [IPv6]:PORT, port 1..65535 (default: one started in this process on 127.0.0.1:0, serving the embedded phantom data set; it then shares this process's CPU with the load)",
    }),
    call: option({
      kind: choice(['get-sample', 'stream-batches'] as const),
      default: 'stream-batches',
      help: 'stream-batches (server streaming) or get-sample (unary, one crop per call)',
    }),
    concurrency: option({
      kind: integer({ min: 1, max: LOAD_LIMITS.maxConcurrency, example: '4' }),
      default: 4,
      help: `calls in flight, 1..${LOAD_LIMITS.maxConcurrency}`,
    }),
    total: option({
      kind: integer({ min: 1, max: LOAD_LIMITS.maxTotal, example: '1000' }),
      default: 1000,
      help: `calls to make, 1..${LOAD_LIMITS.maxTotal}`,
    }),
    duration: option({
      kind: decimal({
        min: 0,
        max: LOAD_LIMITS.maxDurationSeconds,
        aboveMin: true,
        placeholder: 'S',
        example: '10',
      }),
      default: 10,
      help: `seconds at most, above 0 and up to ${LOAD_LIMITS.maxDurationSeconds}`,
    }),
    'batch-size': option({
      kind: integer({ min: 1, max: LOAD_LIMITS.maxBatchSize, example: '8' }),
      default: 8,
      help: `crops per batch of stream-batches, 1..${LOAD_LIMITS.maxBatchSize}`,
    }),
    steps: option({
      kind: integer({ min: 1, max: LOAD_LIMITS.maxSteps, example: '8' }),
      default: 8,
      help: `batches per stream-batches call (its max_steps), 1..${LOAD_LIMITS.maxSteps}`,
    }),
    crop: option({
      kind: triple({ min: 1, placeholder: 'S0,S1,S2', example: '16,96,96' }),
      default: [16, 96, 96],
      help: 'crop size in NRRD axis order',
    }),
    dataset: option({
      kind: text({ placeholder: 'NAME', example: 'phantom' }),
      default: null,
      help: "data set to ask for (default: the server's default data set)",
    }),
    'no-ghz': option({
      kind: flag(),
      default: false,
      help: 'use the built-in client even when ghz is on PATH',
    }),
  },
  notes: `Latency is timed per call for get-sample and per batch for stream-batches (the first batch from the call's
start). Calls still running when --duration ends are cancelled and reported as interrupted, not as errors.

When ghz (https://ghz.sh) is on PATH and --no-ghz is not given, ghz runs instead, with the matching config
deploy/ghz/<call>.json and the same target, concurrency, duration and request data; its summary is printed as
it wrote it. ghz runs for the whole --duration: it ignores a call count when it has a duration, so --total does
not apply to it (--no-ghz for a run that stops after --total calls).

Exit status: 0 when every call succeeded, 1 when some failed, 2 for a bad command line.`,
});

export const LOAD_HELP = formatHelp(LOAD_COMMAND);

/** Reads the command line; every problem is reported at once in one UsageError. */
export function parseLoadOptions(argv: readonly string[]): LoadOptions | 'help' {
  const line = parseCommandLine(LOAD_COMMAND, argv, {});
  if (line === 'help') return 'help';
  const { values, problems } = line;
  const options: LoadOptions = {
    target: values.target,
    call: values.call,
    concurrency: values.concurrency,
    total: values.total,
    durationSeconds: values.duration,
    batchSize: values['batch-size'],
    steps: values.steps,
    crop: values.crop,
    dataset: values.dataset ?? '',
    useGhz: !values['no-ghz'],
  };
  // Each stream asks for steps x batch-size negatives, so its epoch has at least --steps batches.
  if (options.steps * options.batchSize > MAX_NEGATIVES_PER_EPOCH) {
    problems.push(
      `${line.shown('steps')} x ${line.shown('batch-size')} is over the server's ${MAX_NEGATIVES_PER_EPOCH} samples per epoch; lower --steps`,
    );
  }
  throwIfProblems(LOAD_COMMAND, problems);
  return options;
}
