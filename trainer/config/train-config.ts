import { DEFAULT_RECONNECT, parseAddress } from '@voxelfeed/client';
import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import {
  addressList,
  choice,
  decimal,
  flag,
  integer,
  portOrOff,
  text,
  triple,
} from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';
import { BACKEND_PREFERENCES, type BackendPreference } from '../backend/backend-preference.js';
import { FEED_SECURITY_OPTIONS, type FeedTlsFiles, feedTlsFiles } from './feed-connection-options.js';

export type ModelName = 'tiny' | 'vnet';
export type { BackendPreference } from '../backend/backend-preference.js';

/** The lowest level of the log lines written to stderr; debug adds the details behind a fatal error. */
export type TrainLogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const satisfies readonly TrainLogLevel[];

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
  /**
   * Take training batches through shared memory in this directory when the server runs on this host (the
   * same-host path, one reused buffer); null: the normal stream.
   */
  readonly sharedMemory: string | null;
  readonly reportEveryMs: number;
  /** Print a progress line every this many steps (0: never). */
  readonly logEvery: number;
  /** TLS to the server(s); null: plaintext. The files are read and checked at start (read-feed-security.ts). */
  readonly tls: FeedTlsFiles | null;
  /** Its first token is sent as `authorization: Bearer <token>`; null: no token. */
  readonly authTokenFile: string | null;
  /** Calls that fail for want of a server, in a row, before the trainer gives up (reconnect.maxAttempts). */
  readonly reconnectAttempts: number;
  readonly logLevel: TrainLogLevel;
  /** Where rank 0 hosts the rendezvous and the other ranks find it (world size 1: unused, no port opened). */
  readonly masterAddr: string;
  readonly masterPort: number;
  /** Every rank must have joined within this, else each stops naming the ranks that did not. */
  readonly rendezvousTimeoutMs: number;
  /** A step's gradient exchange waits at most this for a neighbouring rank. */
  readonly peerTimeoutMs: number;
}

const count = (min: number, max: number, example: string, placeholder = 'N') =>
  integer({ min, max, example, placeholder });

/** `voxelfeed train`: its options, variables, defaults and help lines. */
export const TRAIN_COMMAND = command({
  name: 'voxelfeed train',
  usage: 'Usage: voxelfeed train --server HOST:PORT --rank R --world-size W [options]',
  summary: `Trains a V-Net (TensorFlow.js) on crops streamed by a voxelfeed server. Every batch is a function of
(seed, epoch, step, rank, world size), so ranks never overlap and --resume continues at the exact next batch.`,
  options: {
    server: option({
      kind: addressList({ example: '127.0.0.1:50051', parse: parseAddress }),
      default: ['127.0.0.1:50051'],
      variable: 'VOXELFEED_SERVER',
      help: 'data server(s), ports 1..65535 ({default}), or dns:///NAME:PORT: every address of NAME (e.g. a headless Service)',
    }),
    'rank-affinity': option({
      kind: flag(),
      default: false,
      variable: 'VOXELFEED_RANK_AFFINITY',
      help: 'rank r streams from replica r mod K, the next on failure',
    }),
    'rank-groups': option({
      kind: count(1, 65_536, '2', 'K'),
      default: 1,
      variable: 'VOXELFEED_RANK_GROUPS',
      help: "cut each epoch into K parts, rank r reads part r mod K ({default}); with --rank-affinity over K replicas, each replica then reads and caches only its own part's series",
    }),
    dataset: option({
      kind: text({ placeholder: 'NAME', example: 'luna16' }),
      default: null,
      variable: 'VOXELFEED_DATASET',
      help: "data set name (default: the server's default)",
    }),
    job: option({
      kind: text({ placeholder: 'NAME', example: 'luna' }),
      default: 'voxelfeed',
      variable: 'VOXELFEED_JOB',
      help: 'job name in metrics and reports',
    }),
    rank: option({
      kind: count(0, 65_535, '0', 'R'),
      default: null,
      variable: 'VOXELFEED_RANK',
      help: 'rank 0..W-1 (default 0; on Kubernetes: see below)',
    }),
    'world-size': option({
      kind: count(1, 65_536, '4', 'W'),
      default: 1,
      variable: 'VOXELFEED_WORLD_SIZE',
      help: 'number of ranks',
    }),
    epochs: option({ kind: count(1, 1_000_000, '10', 'E'), default: 1, help: 'epochs to train' }),
    steps: option({
      kind: count(0, Number.MAX_SAFE_INTEGER, '1000'),
      default: 0,
      help: 'stop after N steps in all ({default}: no limit)',
    }),
    batch: option({ kind: count(1, 4096, '2', 'B'), default: 2, help: 'samples per step and rank' }),
    crop: option({
      kind: triple({ min: 1, example: '16,96,96' }),
      default: [16, 96, 96],
      help: 'crop size in NRRD axis order',
    }),
    model: option({
      kind: choice(['tiny', 'vnet'] as const, { placeholder: 'tiny|vnet' }),
      default: 'vnet',
      help: "tiny: 4 channels, 3 levels; vnet: the paper's",
    }),
    seed: option({
      kind: count(0, Number.MAX_SAFE_INTEGER, '42', 'S'),
      default: 0,
      help: 'sampling and initialisation seed',
    }),
    lr: option({
      kind: decimal({ min: 1e-9, max: 10, placeholder: 'RATE', example: '0.001' }),
      default: 0.001,
      help: 'Adam learning rate',
    }),
    negatives: option({
      kind: count(0, 1_000_000, '100'),
      default: 0,
      help: 'negative crops per epoch on top of one per nodule',
    }),
    'shuffle-window': option({
      kind: count(0, 1_000_000, '64'),
      default: 0,
      help: 'cache-aware order: shuffle within windows of N series ({default}: full shuffle)',
    }),
    'checkpoint-dir': option({
      kind: text({ placeholder: 'DIR', example: './ckpt' }),
      default: null,
      variable: 'VOXELFEED_CHECKPOINT_DIR',
      help: 'write checkpoints here',
    }),
    'checkpoint-every': option({
      kind: count(0, Number.MAX_SAFE_INTEGER, '200'),
      default: 100,
      help: 'steps between checkpoints ({default}; one more at the end)',
    }),
    resume: option({
      kind: flag(),
      default: false,
      help: 'continue from the latest checkpoint in --checkpoint-dir',
    }),
    'validate-every': option({
      kind: count(0, Number.MAX_SAFE_INTEGER, '500'),
      default: 0,
      help: 'mean Dice on held-out series every N steps ({default}: off)',
    }),
    holdout: option({
      kind: decimal({ min: 0, max: 0.9, placeholder: 'F', example: '0.2' }),
      default: 0.2,
      help: 'share of series held out for validation ({default}; with --validate-every)',
    }),
    'validation-batches': option({
      kind: count(0, 1_000_000, '16'),
      default: 0,
      help: 'at most N batches per validation ({default}: all held-out nodules)',
    }),
    'metrics-port': option({
      kind: portOrOff({ example: '9465' }),
      default: 9465,
      variable: 'VOXELFEED_TRAIN_METRICS_PORT',
      deprecatedVariable: 'VOXELFEED_METRICS_PORT',
      help: "serve /metrics on this port ({default}; 0: a free one; off: none); the trainer's own variable, as serve's VOXELFEED_METRICS_PORT defaults to 9464 (still read here when VOXELFEED_TRAIN_METRICS_PORT is unset, with a warning)",
    }),
    'metrics-host': option({
      kind: text({ placeholder: 'HOST', example: '0.0.0.0' }),
      default: '127.0.0.1',
      variable: 'VOXELFEED_METRICS_HOST',
      help: 'address of /metrics ({default}; 0.0.0.0 in containers)',
    }),
    backend: option({
      kind: choice(BACKEND_PREFERENCES),
      default: 'auto',
      variable: 'VOXELFEED_BACKEND',
      help: 'auto, tensorflow, wasm or cpu',
    }),
    prefetch: option({ kind: count(1, 64, '8'), default: 4, help: 'batches buffered ahead of training' }),
    'shared-memory': option({
      kind: text({ placeholder: 'DIR', example: '/dev/shm' }),
      default: null,
      variable: 'VOXELFEED_SHARED_MEMORY',
      help: 'take training batches through shared memory in DIR (/dev/shm, or a directory the server sees too) when the server runs on this host; the normal stream where it does not (docs/same-host.md)',
    }),
    'report-every-ms': option({
      kind: integer({ min: 100, max: 3_600_000, placeholder: 'MS', example: '2000' }),
      default: 2000,
      help: 'how often to report stats to the server',
    }),
    'reconnect-attempts': option({
      kind: count(1, 1_000_000, '20'),
      default: DEFAULT_RECONNECT.maxAttempts,
      variable: 'VOXELFEED_RECONNECT_ATTEMPTS',
      help: `give up after N failed connection attempts in a row (100 ms doubling to 5 s apart; {default}: about 35 s on a closed port)`,
    }),
    'log-every': option({
      kind: count(0, Number.MAX_SAFE_INTEGER, '10'),
      default: 10,
      help: 'progress line every N steps ({default}; 0: none)',
    }),
    'master-addr': option({
      kind: text({ placeholder: 'HOST', example: '10.0.0.5' }),
      default: '127.0.0.1',
      variable: 'MASTER_ADDR',
      help: "rank 0's host: it serves the rendezvous there, the other ranks dial it ({default}; torchrun's variable; world size 1: unused)",
    }),
    'master-port': option({
      kind: integer({ min: 1, max: 65_535, placeholder: 'PORT', example: '29500' }),
      default: 29_500,
      variable: 'MASTER_PORT',
      help: "rank 0's rendezvous port ({default}, as torchrun)",
    }),
    'rendezvous-timeout': option({
      kind: integer({ min: 1, max: 86_400, placeholder: 'SECONDS', example: '300' }),
      default: 300,
      help: 'every rank must join within this ({default}), else each stops naming the ranks missing',
    }),
    'peer-timeout': option({
      kind: integer({ min: 1, max: 86_400, placeholder: 'SECONDS', example: '60' }),
      default: 60,
      help: 'a step waits at most this for another rank ({default}); longer than a checkpoint or validation takes',
    }),
    ...FEED_SECURITY_OPTIONS,
    'log-level': option({
      kind: choice(LOG_LEVELS, { placeholder: 'LEVEL' }),
      default: 'info',
      variable: 'VOXELFEED_LOG_LEVEL',
      help: 'debug, info, warn or error ({default}; debug also logs the details behind a fatal error)',
    }),
  },
  notes: `Rank on Kubernetes: without --rank and VOXELFEED_RANK, the rank is $JOB_COMPLETION_INDEX (an Indexed Job's
pod), else, in a pod ($KUBERNETES_SERVICE_HOST set), the ordinal suffix of $HOSTNAME (a StatefulSet's name-3: 3).

Several ranks train one model: every step's gradients are averaged over the ranks (ring all-reduce over gRPC),
so all ranks hold the same weights. Rank 0 hosts the rendezvous on --master-addr:--master-port, sends its
starting weights (on --resume: its checkpoint) to every rank and alone writes checkpoints; the other ranks
never read or write --checkpoint-dir. The ranks use the token, and mutual TLS when --tls-ca, --tls-cert and
--tls-key are all given (else plaintext).

Prints progress on stderr and one JSON summary line on stdout.`,
});

export const TRAIN_HELP = formatHelp(TRAIN_COMMAND);

/** Every default of TRAIN_COMMAND, with `overrides` on top: a config for trainers started in code (tests). */
export function defaultTrainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return { ...(parseTrainConfig([], {}) as TrainConfig), ...overrides };
}

/**
 * Reads flags, then VOXELFEED_* variables, then defaults (TRAIN_COMMAND); every problem is reported in one
 * UsageError. `warn` gets the lines that do not stop the trainer (an old variable still read).
 */
export function parseTrainConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void = () => {},
): TrainConfig | 'help' {
  const line = parseCommandLine(TRAIN_COMMAND, argv, env);
  if (line === 'help') return 'help';
  const { values, problems } = line;
  const worldSize = values['world-size'];
  const podRank = line.settings.rank === null ? kubernetesRank(env) : null;
  const rank = podRank?.rank ?? values.rank ?? 0;
  if (rank >= worldSize) {
    problems.push(
      `${podRank?.source ?? line.shown('rank')} with ${line.shown('world-size')}: rank must be 0..${worldSize - 1}`,
    );
  }
  const rankGroups = values['rank-groups'];
  if (rankGroups > worldSize) {
    problems.push(
      `${line.shown('rank-groups')} with ${line.shown('world-size')}: use 1..${worldSize} (the number of server replicas)`,
    );
  }
  if (values.resume && values['checkpoint-dir'] === null) {
    problems.push('--resume needs --checkpoint-dir (where to find the checkpoint)');
  }
  if (values['validate-every'] > 0 && values.holdout === 0) {
    problems.push(
      `${line.shown('validate-every')} needs --holdout above 0 (the share of series to validate on)`,
    );
  }
  const config: TrainConfig = {
    servers: values.server,
    rankAffinity: values['rank-affinity'],
    rankGroups,
    dataset: values.dataset ?? '',
    job: values.job,
    rank,
    worldSize,
    epochs: values.epochs,
    steps: values.steps,
    batchSize: values.batch,
    cropSize: values.crop,
    model: values.model,
    seed: values.seed,
    learningRate: values.lr,
    checkpointDir: values['checkpoint-dir'],
    checkpointEvery: values['checkpoint-every'],
    resume: values.resume,
    validateEvery: values['validate-every'],
    holdoutFraction: values.holdout,
    maxValidationBatches: values['validation-batches'],
    negativesPerEpoch: values.negatives,
    shuffleWindow: values['shuffle-window'],
    metricsPort: values['metrics-port'],
    metricsHost: values['metrics-host'],
    backend: values.backend,
    prefetch: values.prefetch,
    sharedMemory: values['shared-memory'],
    reportEveryMs: values['report-every-ms'],
    logEvery: values['log-every'],
    tls: feedTlsFiles(line, problems),
    authTokenFile: values['auth-token-file'],
    reconnectAttempts: values['reconnect-attempts'],
    logLevel: values['log-level'],
    masterAddr: values['master-addr'],
    masterPort: values['master-port'],
    rendezvousTimeoutMs: values['rendezvous-timeout'] * 1000,
    peerTimeoutMs: values['peer-timeout'] * 1000,
  };
  throwIfProblems(TRAIN_COMMAND, problems);
  for (const warning of line.warnings) warn(warning);
  return config;
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
