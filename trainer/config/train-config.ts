import { parseArgs } from 'node:util';
import { DEFAULT_RECONNECT } from '../../client/index.js';
import { envFlag } from '../../common/env-flag.js';
import { UsageError } from '../../common/usage-error.js';
import { type BackendPreference, isBackendPreference } from '../backend/backend-preference.js';

export type ModelName = 'tiny' | 'vnet';
export type { BackendPreference } from '../backend/backend-preference.js';

/** The lowest level of the log lines written to stderr; debug adds the details behind a fatal error. */
export type TrainLogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS: readonly TrainLogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface TrainConfig {
  /** host:port of one server, several separated by commas (replicas), or one dns:///NAME:PORT. */
  readonly servers: readonly string[];
  /** Rank r streams from replica r mod K first (client option rankAffinity). */
  readonly rankAffinity: boolean;
  /** The plan cut into this many parts, one per replica (the request's rank_groups); 1: not cut. */
  readonly rankGroups: number;
  readonly dataset: string;
  readonly job: string;
  readonly rank: number;
  readonly worldSize: number;
  readonly epochs: number;
  /** Steps in all (over epochs) before stopping; 0: no limit but epochs. */
  readonly steps: number;
  readonly batchSize: number;
  readonly cropSize: readonly [number, number, number];
  readonly model: ModelName;
  readonly seed: number;
  readonly learningRate: number;
  readonly checkpointDir: string | null;
  readonly checkpointEvery: number;
  readonly resume: boolean;
  readonly validateEvery: number;
  readonly holdoutFraction: number;
  readonly maxValidationBatches: number;
  readonly negativesPerEpoch: number;
  /** 0: the full shuffle; n: the cache-aware order over windows of n series (sampling.shuffle_window). */
  readonly shuffleWindow: number;
  readonly metricsPort: number | null;
  readonly metricsHost: string;
  readonly backend: BackendPreference;
  readonly prefetch: number;
  readonly reportEveryMs: number;
  /** Print a progress line every this many steps (0: never). */
  readonly logEvery: number;
  /**
   * TLS to the server(s); null: plaintext. Optional only so that configs written before TLS still type-check;
   * parseTrainConfig always sets it. The files are read and checked at start (read-feed-security.ts).
   */
  readonly tls?: TrainTlsFiles | null;
  /** Its first token is sent as `authorization: Bearer <token>`; null: no token. */
  readonly authTokenFile?: string | null;
  /**
   * Calls that fail for want of a server, in a row, before the trainer gives up (the client's
   * reconnect.maxAttempts). Optional for configs written before it; parseTrainConfig always sets it.
   */
  readonly reconnectAttempts?: number;
  /** Optional for configs written before it (info); parseTrainConfig always sets it. */
  readonly logLevel?: TrainLogLevel;
}

/** TLS to the server: `caFile` null trusts the system's CAs; a client certificate (both or neither) for mTLS. */
export interface TrainTlsFiles {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
}

export const TRAIN_HELP = `Usage: voxelfeed train --server HOST:PORT --rank R --world-size W [options]

Trains a V-Net (TensorFlow.js) on crops streamed by a voxelfeed server. Every batch is a function of
(seed, epoch, step, rank, world size), so ranks never overlap and --resume continues at the exact next batch.

Options (each also read from the environment variable shown; a flag wins over its variable):
  --server HOST:PORT[,HOST:PORT...]  data server(s) (default 127.0.0.1:50051)      VOXELFEED_SERVER
                          or dns:///NAME:PORT: every address of NAME (e.g. a headless Service)
  --rank-affinity         rank r streams from replica r mod K, the next on failure  VOXELFEED_RANK_AFFINITY=1
  --rank-groups K         cut each epoch into K parts, rank r reads part r mod K    VOXELFEED_RANK_GROUPS
                          (default 1); with --rank-affinity over K replicas, each replica then reads and
                          caches only its own part's series
  --dataset NAME          data set name (default: the server's default)            VOXELFEED_DATASET
  --job NAME              job name in metrics and reports (default voxelfeed)      VOXELFEED_JOB
  --rank R                rank 0..W-1 (default 0; on Kubernetes: see below)        VOXELFEED_RANK
  --world-size W          number of ranks (default 1)                              VOXELFEED_WORLD_SIZE
  --epochs E              epochs to train (default 1)
  --steps N               stop after N steps in all (default 0: no limit)
  --batch B               samples per step and rank (default 2)
  --crop Z,Y,X            crop size in NRRD axis order (default 16,96,96)
  --model tiny|vnet       tiny: 4 channels, 3 levels; vnet: the paper's (default vnet)
  --seed S                sampling and initialisation seed (default 0)
  --lr RATE               Adam learning rate (default 0.001)
  --negatives N           negative crops per epoch on top of one per nodule (default 0)
  --shuffle-window N      cache-aware order: shuffle within windows of N series (default 0: full shuffle)
  --checkpoint-dir DIR    write checkpoints here                                   VOXELFEED_CHECKPOINT_DIR
  --checkpoint-every N    steps between checkpoints (default 100; one more at the end)
  --resume                continue from the latest checkpoint in --checkpoint-dir
  --validate-every N      mean Dice on held-out series every N steps (default 0: off)
  --holdout F             share of series held out for validation (default 0.2; with --validate-every)
  --validation-batches N  at most N batches per validation (default 0: all held-out nodules)
  --metrics-port P        serve /metrics on this port (default 9465; 0: a free one; off: none)  VOXELFEED_METRICS_PORT
  --metrics-host HOST     address of /metrics (default 127.0.0.1; 0.0.0.0 in containers)       VOXELFEED_METRICS_HOST
  --backend NAME          auto, tensorflow, wasm or cpu (default auto)             VOXELFEED_BACKEND
  --prefetch N            batches buffered ahead of training (default 4)
  --report-every-ms MS    how often to report stats to the server (default 2000)
  --reconnect-attempts N  give up after N failed connection attempts in a row     VOXELFEED_RECONNECT_ATTEMPTS
                          (100 ms doubling to 5 s apart; default 20: about 35 s on a closed port)
  --log-every N           progress line every N steps (default 10; 0: none)
  --tls                   TLS, trusting the system's CAs                           VOXELFEED_TLS=1
  --tls-ca FILE           TLS, trusting this PEM CA (the server's issuer)          VOXELFEED_TLS_CA
  --tls-cert FILE         mutual TLS: this client's PEM certificate                VOXELFEED_TLS_CERT
  --tls-key FILE          mutual TLS: its unencrypted PEM private key              VOXELFEED_TLS_KEY
  --auth-token-file FILE  send the file's first token (# lines skipped) as
                          "authorization: Bearer <token>"                          VOXELFEED_AUTH_TOKEN_FILE
  --log-level LEVEL       debug, info, warn or error (default info)                VOXELFEED_LOG_LEVEL
                          (debug also logs the details behind a fatal error)
  -h, --help              show this text

Rank on Kubernetes: without --rank and VOXELFEED_RANK, the rank is $JOB_COMPLETION_INDEX (an Indexed Job's
pod), else, in a pod ($KUBERNETES_SERVICE_HOST set), the ordinal suffix of $HOSTNAME (a StatefulSet's name-3: 3).

Prints progress on stderr and one JSON summary line on stdout.`;

const NUMBER_OPTIONS = [
  'rank',
  'world-size',
  'rank-groups',
  'epochs',
  'steps',
  'batch',
  'seed',
  'lr',
  'negatives',
  'shuffle-window',
  'checkpoint-every',
  'validate-every',
  'holdout',
  'validation-batches',
  'prefetch',
  'report-every-ms',
  'log-every',
  'reconnect-attempts',
] as const;

const ENV: Record<string, string> = {
  server: 'VOXELFEED_SERVER',
  dataset: 'VOXELFEED_DATASET',
  job: 'VOXELFEED_JOB',
  rank: 'VOXELFEED_RANK',
  'world-size': 'VOXELFEED_WORLD_SIZE',
  'rank-groups': 'VOXELFEED_RANK_GROUPS',
  'checkpoint-dir': 'VOXELFEED_CHECKPOINT_DIR',
  'metrics-port': 'VOXELFEED_METRICS_PORT',
  'metrics-host': 'VOXELFEED_METRICS_HOST',
  backend: 'VOXELFEED_BACKEND',
  'tls-ca': 'VOXELFEED_TLS_CA',
  'tls-cert': 'VOXELFEED_TLS_CERT',
  'tls-key': 'VOXELFEED_TLS_KEY',
  'auth-token-file': 'VOXELFEED_AUTH_TOKEN_FILE',
  'reconnect-attempts': 'VOXELFEED_RECONNECT_ATTEMPTS',
  'log-level': 'VOXELFEED_LOG_LEVEL',
};

/** Reads flags, then VOXELFEED_* variables, then defaults; every problem is reported in one Error. */
export function parseTrainConfig(argv: readonly string[], env: NodeJS.ProcessEnv): TrainConfig | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      server: { type: 'string' },
      dataset: { type: 'string' },
      job: { type: 'string' },
      crop: { type: 'string' },
      model: { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      resume: { type: 'boolean' },
      'rank-affinity': { type: 'boolean' },
      tls: { type: 'boolean' },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'auth-token-file': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string' },
      backend: { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...(Object.fromEntries(NUMBER_OPTIONS.map((name) => [name, { type: 'string' }])) as Record<
        (typeof NUMBER_OPTIONS)[number],
        { type: 'string' }
      >),
    },
  });
  if (values.help) return 'help';
  const problems: string[] = [];
  const text = (name: keyof typeof values): string | undefined => {
    const value = values[name];
    if (typeof value === 'string') return value;
    const variable = ENV[name];
    const fromEnv = variable ? env[variable] : undefined;
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const number = (
    name: (typeof NUMBER_OPTIONS)[number],
    fallback: number,
    min: number,
    max: number,
    integer = true,
  ) => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (
      !/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(raw.trim()) ||
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      problems.push(
        `--${name} ${raw}: expected ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`,
      );
      return fallback;
    }
    return value;
  };
  const servers = (text('server') ?? '127.0.0.1:50051')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const server of servers) {
    if (!/^(dns:(\/\/[^/\s]*\/)?)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+):\d{1,5}$/.test(server))
      problems.push(
        `--server ${server}: expected HOST:PORT or dns:///NAME:PORT, e.g. 127.0.0.1:50051 or dns:///voxelfeed:50051`,
      );
  }
  const cropText = text('crop') ?? '16,96,96';
  const cropParts = cropText.split(',').map((part) => Number(part.trim()));
  if (cropParts.length !== 3 || cropParts.some((size) => !Number.isInteger(size) || size < 1)) {
    problems.push(`--crop ${cropText}: expected three positive integers Z,Y,X, e.g. 16,96,96`);
  }
  const model = text('model') ?? 'vnet';
  if (model !== 'tiny' && model !== 'vnet') problems.push(`--model ${model}: use tiny or vnet`);
  const backendText = text('backend') ?? 'auto';
  const backend = isBackendPreference(backendText) ? backendText : 'auto';
  if (!isBackendPreference(backendText))
    problems.push(`--backend ${backendText}: use auto, tensorflow, wasm or cpu`);
  const metricsText = text('metrics-port') ?? '9465';
  let metricsPort: number | null = null;
  if (metricsText !== 'off') {
    metricsPort = Number(metricsText);
    if (!/^\d+$/.test(metricsText) || metricsPort > 65535) {
      problems.push(`--metrics-port ${metricsText}: expected a port 0..65535 or off`);
      metricsPort = null;
    }
  }
  const logLevelText = text('log-level') ?? 'info';
  const logLevel = LOG_LEVELS.find((level) => level === logLevelText);
  if (logLevel === undefined) problems.push(`--log-level ${logLevelText}: use ${LOG_LEVELS.join(', ')}`);
  const worldSize = number('world-size', 1, 1, 65_536);
  const podRank = text('rank') === undefined ? kubernetesRank(env) : null;
  const rank = podRank?.rank ?? number('rank', 0, 0, 65_535);
  if (rank >= worldSize)
    problems.push(
      `${podRank?.source ?? `--rank ${rank}`} with --world-size ${worldSize}: rank must be 0..${worldSize - 1}`,
    );
  const rankGroups = number('rank-groups', 1, 1, 65_536);
  if (rankGroups > worldSize)
    problems.push(
      `--rank-groups ${rankGroups} with --world-size ${worldSize}: use 1..${worldSize} (the number of server replicas)`,
    );
  const checkpointDir = text('checkpoint-dir') ?? null;
  if (values.resume && checkpointDir === null)
    problems.push('--resume needs --checkpoint-dir (where to find the checkpoint)');
  const config: TrainConfig = {
    servers,
    rankAffinity: values['rank-affinity'] === true || envFlag(env, 'VOXELFEED_RANK_AFFINITY', problems),
    rankGroups,
    dataset: text('dataset') ?? '',
    job: text('job') ?? 'voxelfeed',
    rank,
    worldSize,
    epochs: number('epochs', 1, 1, 1_000_000),
    steps: number('steps', 0, 0, Number.MAX_SAFE_INTEGER),
    batchSize: number('batch', 2, 1, 4096),
    cropSize: [cropParts[0] ?? 16, cropParts[1] ?? 96, cropParts[2] ?? 96],
    model: model as ModelName,
    seed: number('seed', 0, 0, Number.MAX_SAFE_INTEGER),
    learningRate: number('lr', 0.001, 1e-9, 10, false),
    checkpointDir,
    checkpointEvery: number('checkpoint-every', 100, 0, Number.MAX_SAFE_INTEGER),
    resume: values.resume === true,
    validateEvery: number('validate-every', 0, 0, Number.MAX_SAFE_INTEGER),
    holdoutFraction: number('holdout', 0.2, 0, 0.9, false),
    maxValidationBatches: number('validation-batches', 0, 0, 1_000_000),
    negativesPerEpoch: number('negatives', 0, 0, 1_000_000),
    shuffleWindow: number('shuffle-window', 0, 0, 1_000_000),
    metricsPort,
    metricsHost: text('metrics-host') ?? '127.0.0.1',
    backend,
    prefetch: number('prefetch', 4, 1, 64),
    reportEveryMs: number('report-every-ms', 2000, 100, 3_600_000),
    logEvery: number('log-every', 10, 0, Number.MAX_SAFE_INTEGER),
    tls: trainTls(
      values.tls === true || envFlag(env, 'VOXELFEED_TLS', problems),
      text('tls-ca') ?? null,
      text('tls-cert') ?? null,
      text('tls-key') ?? null,
      problems,
    ),
    authTokenFile: text('auth-token-file') ?? null,
    reconnectAttempts: number('reconnect-attempts', DEFAULT_RECONNECT.maxAttempts, 1, 1_000_000),
    logLevel: logLevel ?? 'info',
  };
  if (config.validateEvery > 0 && config.holdoutFraction === 0) {
    problems.push('--validate-every needs --holdout above 0 (the share of series to validate on)');
  }
  if (problems.length > 0)
    throw new UsageError(`bad options:\n  ${problems.join('\n  ')}\nRun voxelfeed train --help for usage.`);
  return config;
}

/** TLS is on with --tls or any TLS file; a client certificate needs its key and the reverse. */
function trainTls(
  on: boolean,
  caFile: string | null,
  certFile: string | null,
  keyFile: string | null,
  problems: string[],
): TrainTlsFiles | null {
  if (certFile !== null && keyFile === null)
    problems.push(`--tls-cert ${certFile} needs --tls-key FILE (VOXELFEED_TLS_KEY), its private key`);
  if (keyFile !== null && certFile === null)
    problems.push(
      `--tls-key ${keyFile} needs --tls-cert FILE (VOXELFEED_TLS_CERT), the certificate of that key`,
    );
  if (!on && caFile === null && certFile === null && keyFile === null) return null;
  return { caFile, certFile, keyFile };
}

/** A rank that Kubernetes gives a pod, and the variable it came from (for messages). */
export interface PodRank {
  readonly rank: number;
  /** `JOB_COMPLETION_INDEX=3` or `HOSTNAME=voxelfeed-trainer-3`. */
  readonly source: string;
}

/**
 * The rank of a pod when no --rank or VOXELFEED_RANK is given: an Indexed Job's `JOB_COMPLETION_INDEX`, else
 * the ordinal suffix of a StatefulSet pod's `HOSTNAME` (`name-3` -> 3). The host name is only trusted inside a
 * pod (`KUBERNETES_SERVICE_HOST`, set in every pod), as a workstation called `gpu-2` must not become rank 2.
 * An Indexed Job's own host name ends in a random suffix, hence the index comes first.
 */
export function kubernetesRank(env: NodeJS.ProcessEnv): PodRank | null {
  const index = env['JOB_COMPLETION_INDEX']?.trim();
  if (index !== undefined && /^\d{1,5}$/.test(index)) {
    return { rank: Number(index), source: `JOB_COMPLETION_INDEX=${index}` };
  }
  const hostname = env['HOSTNAME'];
  const ordinal = hostname === undefined ? undefined : /^[a-z0-9.-]+-(\d{1,5})$/.exec(hostname)?.[1];
  if (env['KUBERNETES_SERVICE_HOST'] && ordinal !== undefined) {
    return { rank: Number(ordinal), source: `HOSTNAME=${hostname}` };
  }
  return null;
}
