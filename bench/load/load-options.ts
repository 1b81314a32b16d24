import { parseArgs } from 'node:util';
import { UsageError } from '../../common/usage-error.js';
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

export const LOAD_HELP = `Usage: npm run load -- [options]
       node --import tsx bench/load/main.ts [options]

A bounded load test of a voxelfeed server over gRPC: --concurrency calls in flight until --total calls have
finished or --duration has passed, whichever comes first (with ghz: for --duration, see below). Prints a
table, then one JSON line.

Options:
  --target HOST:PORT   the server to load (default: one started in this process on 127.0.0.1:0, serving the
                       embedded phantom data set; it then shares this process's CPU with the load)
  --call NAME          stream-batches (server streaming, default) or get-sample (unary, one crop per call)
  --concurrency N      calls in flight, 1..${LOAD_LIMITS.maxConcurrency} (default 4)
  --total N            calls to make, 1..${LOAD_LIMITS.maxTotal} (default 1000)
  --duration S         seconds at most, above 0 and up to ${LOAD_LIMITS.maxDurationSeconds} (default 10)
  --batch-size N       crops per batch of stream-batches, 1..${LOAD_LIMITS.maxBatchSize} (default 8)
  --steps N            batches per stream-batches call (its max_steps), 1..${LOAD_LIMITS.maxSteps} (default 8)
  --crop S0,S1,S2      crop size in NRRD axis order (default 16,96,96)
  --dataset NAME       data set to ask for (default: the server's default data set)
  --no-ghz             use the built-in client even when ghz is on PATH
  -h, --help           show this text

Latency is timed per call for get-sample and per batch for stream-batches (the first batch from the call's
start). Calls still running when --duration ends are cancelled and reported as interrupted, not as errors.

When ghz (https://ghz.sh) is on PATH and --no-ghz is not given, ghz runs instead, with the matching config
deploy/ghz/<call>.json and the same target, concurrency, duration and request data; its summary is printed as
it wrote it. ghz runs for the whole --duration: it ignores a call count when it has a duration, so --total does
not apply to it (--no-ghz for a run that stops after --total calls).

Exit status: 0 when every call succeeded, 1 when some failed, 2 for a bad command line.`;

const DEFAULTS = {
  call: 'stream-batches' as LoadCall,
  concurrency: 4,
  total: 1000,
  durationSeconds: 10,
  batchSize: 8,
  steps: 8,
  crop: [16, 96, 96] as Shape3,
};

/** Reads the command line; every problem is reported at once in one UsageError. */
export function parseLoadOptions(argv: readonly string[]): LoadOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      call: { type: 'string' },
      concurrency: { type: 'string' },
      total: { type: 'string' },
      duration: { type: 'string' },
      'batch-size': { type: 'string' },
      steps: { type: 'string' },
      crop: { type: 'string' },
      dataset: { type: 'string' },
      'no-ghz': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const problems: string[] = [];
  if (positionals.length > 0) {
    problems.push(
      `unexpected argument "${positionals[0]}"; options start with --, e.g. --target 127.0.0.1:50051`,
    );
  }
  const integer = (name: string, text: string | undefined, fallback: number, max: number): number => {
    if (text === undefined) return fallback;
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      problems.push(`--${name} ${text}: use an integer from 1 to ${max}`);
      return fallback;
    }
    return value;
  };
  const call = values.call ?? DEFAULTS.call;
  if (call !== 'get-sample' && call !== 'stream-batches') {
    problems.push(`--call ${call}: use get-sample or stream-batches`);
  }
  const target = values.target ?? null;
  if (target !== null && !/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(target)) {
    problems.push(`--target ${target}: write HOST:PORT, e.g. 127.0.0.1:50051 or [::1]:50051`);
  }
  let durationSeconds = DEFAULTS.durationSeconds;
  if (values.duration !== undefined) {
    const value = /^\d+(\.\d+)?$/.test(values.duration) ? Number(values.duration) : Number.NaN;
    if (!(value > 0 && value <= LOAD_LIMITS.maxDurationSeconds)) {
      problems.push(
        `--duration ${values.duration}: use seconds above 0 and up to ${LOAD_LIMITS.maxDurationSeconds}, e.g. 10 or 0.5`,
      );
    } else {
      durationSeconds = value;
    }
  }
  let crop = DEFAULTS.crop;
  if (values.crop !== undefined) {
    const sizes = values.crop
      .split(',')
      .map((part) => (/^\d+$/.test(part.trim()) ? Number(part) : Number.NaN));
    if (sizes.length !== 3 || sizes.some((size) => !Number.isSafeInteger(size) || size < 1)) {
      problems.push(`--crop ${values.crop}: give 3 positive sizes S0,S1,S2, e.g. 16,96,96`);
    } else {
      crop = [sizes[0]!, sizes[1]!, sizes[2]!];
    }
  }
  const options: LoadOptions = {
    target,
    call: call as LoadCall,
    concurrency: integer('concurrency', values.concurrency, DEFAULTS.concurrency, LOAD_LIMITS.maxConcurrency),
    total: integer('total', values.total, DEFAULTS.total, LOAD_LIMITS.maxTotal),
    durationSeconds,
    batchSize: integer('batch-size', values['batch-size'], DEFAULTS.batchSize, LOAD_LIMITS.maxBatchSize),
    steps: integer('steps', values.steps, DEFAULTS.steps, LOAD_LIMITS.maxSteps),
    crop,
    dataset: values.dataset ?? '',
    useGhz: values['no-ghz'] !== true,
  };
  // Each stream asks for steps x batch-size negatives, so its epoch has at least --steps batches.
  if (options.steps * options.batchSize > MAX_NEGATIVES_PER_EPOCH) {
    problems.push(
      `--steps ${options.steps} x --batch-size ${options.batchSize} is over the server's ${MAX_NEGATIVES_PER_EPOCH} samples per epoch; lower --steps`,
    );
  }
  if (problems.length > 0) throw new UsageError(`${problems.join('\n')}\nRun with --help for usage.`);
  return options;
}
