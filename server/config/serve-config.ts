import { parseArgs } from 'node:util';
import { envFlag } from '../../common/env-flag.js';
import { DEFAULT_MAX_SKIPPED_SHARE } from '../dataset/skipped-share.js';
import { VoxelfeedError } from '../errors.js';
import type { LogLevel } from '../log/logger.js';
import { DEFAULT_PLAN_CACHE_BYTES } from '../service/plan-cache.js';
import { DEFAULT_SERVICE_LIMITS, type ServiceLimits } from '../service/service-limits.js';
import { formatBytes, parseByteSize } from '../../common/cli/parse-byte-size.js';
import { parseShare } from '../../common/cli/parse-share.js';
import type { ServeTlsFiles } from './read-tls-files.js';

export interface ServeConfig {
  /** A folder or manifest; null serves the embedded phantom data set. */
  readonly data: string | null;
  readonly datasetName: string | null;
  readonly host: string;
  readonly port: number;
  /** HTTP port of GET /metrics (Prometheus), on `metricsHost`; 0 picks a free one. */
  readonly metricsPort: number | null;
  /**
   * Address of GET /metrics, so gRPC can face the network while metrics stay on loopback. Optional like `tls`
   * (configs written before it type-check); parseServeConfig always sets it; absent: `host`.
   */
  readonly metricsHost?: string;
  readonly cacheMaxBytes: number;
  /** Volumes read and decoded at once (the cache's maxConcurrentLoads); unset: DEFAULT_CONCURRENT_LOADS. */
  readonly maxConcurrentLoads?: number;
  /** Bytes of epoch plans kept (4 per item); optional like `tls`; unset: DEFAULT_PLAN_CACHE_BYTES. */
  readonly planCacheMaxBytes?: number;
  readonly strict: boolean;
  /**
   * Refuse to start when more than this share (0..1) of the series is skipped at indexing. Optional like
   * `tls`; parseServeConfig always sets it; absent: DEFAULT_MAX_SKIPPED_SHARE.
   */
  readonly maxSkippedShare?: number;
  /**
   * Replace the items of series found bad while serving by items of good series instead of failing their
   * streams (sampling/plan-without-series.ts). Optional like `tls`; parseServeConfig always sets it.
   */
  readonly replaceBadSeries?: boolean;
  readonly limits: ServiceLimits;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /**
   * TLS (mutual with a client CA); null: plaintext. Optional only so that configs written before TLS still
   * type-check; parseServeConfig always sets it. The files are read and checked at start-up (read-tls-files.ts).
   */
  readonly tls?: ServeTlsFiles | null;
  /** Bearer tokens every call but the health check must carry, one per line; null: no token needed. */
  readonly authTokenFile?: string | null;
}

/**
 * Loads at once by default: the decoding of gzip NRRD runs on libuv's 4 threads, so more loads add memory
 * (each holds a file and its decoded arrays) rather than speed.
 */
export const DEFAULT_CONCURRENT_LOADS = 4;

export const SERVE_HELP = `Usage: voxelfeed serve [options]

Serves 3D crops of a data set over gRPC (voxelfeed.v1.VoxelFeed, with grpc.health.v1 and server reflection).

Options (each also read from the environment variable shown; a flag wins over its variable):
  --data PATH            folder in the LUNA16 preprocessed layout (<uid>_clean.nrrd,       VOXELFEED_DATA
                         <uid>_mask.nrrd, <uid>_bboxes.npy) or a manifest (.csv or .json:
                         id,image,mask,boxes); default: a small phantom data set, generated
                         once into the cache folder
  --name NAME            data set name in requests (default: the folder's name)            VOXELFEED_DATASET_NAME
  --host HOST            address to listen on (default 127.0.0.1; 0.0.0.0 for all)         VOXELFEED_HOST
  --port N               port (default 50051; 0 picks a free one)                          VOXELFEED_PORT
  --metrics-port N|off   HTTP port of /metrics for Prometheus (default 9464; 0: a free one;
                         off: no metrics at all)                                           VOXELFEED_METRICS_PORT
  --metrics-host HOST    address of /metrics (default: the same as --host)                 VOXELFEED_METRICS_HOST
  --cache-bytes SIZE     decoded volumes kept in memory, e.g. 2GiB, 512MiB (default 2GiB)  VOXELFEED_CACHE_BYTES
  --max-loads N          volumes read and decoded at once (default ${DEFAULT_CONCURRENT_LOADS}); memory beside the   VOXELFEED_MAX_LOADS
                         cache is about N decoded volumes (more rarely helps: libuv runs 4 threads)
  --plan-cache-bytes SIZE
                         epoch plans kept in memory, 4 bytes per item (default 256MiB);    VOXELFEED_PLAN_CACHE_BYTES
                         a larger plan is built for its streams and not kept
  --strict               refuse to start when any series is bad (default: report, skip)    VOXELFEED_STRICT=1
  --max-skipped SHARE    refuse to start when more than this share of the series is bad    VOXELFEED_MAX_SKIPPED
                         and skipped, e.g. 0.1 or 10% (default ${DEFAULT_MAX_SKIPPED_SHARE}; 1: any share); the share
                         is printed on stderr; voxelfeed index PATH lists why each was skipped
  --replace-bad-series   serve other series' items in place of a series found unreadable   VOXELFEED_REPLACE_BAD_SERIES=1
                         while serving (missing, truncated or corrupt file) instead of ending streams with
                         DATA_LOSS; batches then depend on which series were found bad (default: off)
  --max-crop-voxels N    largest crop per sample (default ${DEFAULT_SERVICE_LIMITS.maxCropVoxels})                         VOXELFEED_MAX_CROP_VOXELS
  --max-batch-bytes SIZE largest batch message (default 64MiB, at most 1GiB)               VOXELFEED_MAX_BATCH_BYTES
  --batch-memory SIZE    encoded batches held at once over all streams: being prepared,    VOXELFEED_BATCH_MEMORY
                         waiting, or with gRPC; more wait for room (default 256MiB, or
                         --max-batch-bytes if larger); given back after 5 s without traffic
  --max-streams N        StreamBatches calls served at once, all clients (default 256)     VOXELFEED_MAX_STREAMS
  --max-streams-per-peer N
                         calls at once from one client host, all its ranks (default 32)    VOXELFEED_MAX_STREAMS_PER_PEER
  --keepalive-ms N       ping every connection this often, close it if no answer in 20 s   VOXELFEED_KEEPALIVE_MS
                         (default 60000; 0: no pings)
  --idle-timeout-ms N    close a connection with no call for this long (default 600000;    VOXELFEED_IDLE_TIMEOUT_MS
                         0: never); clients reconnect at their next call
  --shutdown-grace-ms N  time open streams get on SIGTERM (default 10000)                  VOXELFEED_SHUTDOWN_GRACE_MS
  --tls-cert FILE        serve TLS with this PEM certificate chain (needs --tls-key)       VOXELFEED_TLS_CERT
  --tls-key FILE         the certificate's unencrypted PEM private key                     VOXELFEED_TLS_KEY
  --tls-client-ca FILE   mutual TLS: require client certificates signed by this PEM CA     VOXELFEED_TLS_CLIENT_CA
  --auth-token-file FILE require "authorization: Bearer <token>" with a token of this file
                         (one per line; # comments; several for rotation; health is open)  VOXELFEED_AUTH_TOKEN_FILE
  --log-level LEVEL      debug, info, warn, error or silent (default info)                 VOXELFEED_LOG_LEVEL
  -h, --help             show this text

The cache folder (for the default data set) is $VOXELFEED_CACHE_DIR, else $XDG_CACHE_HOME/voxelfeed, else
~/.cache/voxelfeed. Logs are JSON lines on stderr. The first line on stdout is "listening on HOST:PORT",
the second "metrics on http://HOST:PORT/metrics".`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
/** grpc-js sends larger messages, but no client should be asked to accept one. */
const MAX_BATCH_BYTES_LIMIT = 1024 ** 3;
/** The longest keepalive interval or idle timeout taken; longer ones are as good as off (0). */
const DAY_MS = 86_400_000;

/** Every option that takes a value, its variable and an example for messages. */
const VALUE_OPTIONS = {
  data: { variable: 'VOXELFEED_DATA', example: './data/luna16' },
  name: { variable: 'VOXELFEED_DATASET_NAME', example: 'luna16' },
  host: { variable: 'VOXELFEED_HOST', example: '0.0.0.0' },
  port: { variable: 'VOXELFEED_PORT', example: '50051' },
  'metrics-port': { variable: 'VOXELFEED_METRICS_PORT', example: '9464' },
  'metrics-host': { variable: 'VOXELFEED_METRICS_HOST', example: '127.0.0.1' },
  'cache-bytes': { variable: 'VOXELFEED_CACHE_BYTES', example: '2GiB' },
  'plan-cache-bytes': { variable: 'VOXELFEED_PLAN_CACHE_BYTES', example: '256MiB' },
  'max-crop-voxels': { variable: 'VOXELFEED_MAX_CROP_VOXELS', example: '2097152' },
  'max-batch-bytes': { variable: 'VOXELFEED_MAX_BATCH_BYTES', example: '64MiB' },
  'batch-memory': { variable: 'VOXELFEED_BATCH_MEMORY', example: '256MiB' },
  'max-streams': { variable: 'VOXELFEED_MAX_STREAMS', example: '256' },
  'max-loads': { variable: 'VOXELFEED_MAX_LOADS', example: '4' },
  'max-skipped': { variable: 'VOXELFEED_MAX_SKIPPED', example: '0.1' },
  'max-streams-per-peer': { variable: 'VOXELFEED_MAX_STREAMS_PER_PEER', example: '32' },
  'keepalive-ms': { variable: 'VOXELFEED_KEEPALIVE_MS', example: '60000' },
  'idle-timeout-ms': { variable: 'VOXELFEED_IDLE_TIMEOUT_MS', example: '600000' },
  'shutdown-grace-ms': { variable: 'VOXELFEED_SHUTDOWN_GRACE_MS', example: '10000' },
  'log-level': { variable: 'VOXELFEED_LOG_LEVEL', example: 'info' },
  'tls-cert': { variable: 'VOXELFEED_TLS_CERT', example: '/etc/voxelfeed/tls/server.crt' },
  'tls-key': { variable: 'VOXELFEED_TLS_KEY', example: '/etc/voxelfeed/tls/server.key' },
  'tls-client-ca': { variable: 'VOXELFEED_TLS_CLIENT_CA', example: '/etc/voxelfeed/tls/client-ca.crt' },
  'auth-token-file': { variable: 'VOXELFEED_AUTH_TOKEN_FILE', example: '/etc/voxelfeed/tokens' },
} as const;
type ValueOption = keyof typeof VALUE_OPTIONS;
const FLAG_OPTIONS = ['strict', 'replace-bad-series', 'help'] as const;

/** A value as given, and where it came from, so a message names what the user actually wrote. */
interface Setting {
  readonly text: string;
  /** `--port nope` or `VOXELFEED_PORT=nope`. */
  readonly shown: string;
}

/**
 * Builds the server's config from flags, then `VOXELFEED_*` variables, then defaults, and reports every
 * problem at once (an INVALID_ARGUMENT error whose message lists them, each naming the value and the fix).
 * `parseArgs` runs non-strict for that reason: strict mode throws at the first unknown option; unknown
 * options, missing values and stray arguments are collected here instead.
 */
export function parseServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig | 'help' {
  const { values, tokens } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      ...(Object.fromEntries(Object.keys(VALUE_OPTIONS).map((name) => [name, { type: 'string' }])) as Record<
        ValueOption,
        { type: 'string' }
      >),
      strict: { type: 'boolean' },
      'replace-bad-series': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  const { problems, valueless } = commandLineProblems(tokens);

  const pick = (option: ValueOption): Setting | undefined => {
    const value = values[option];
    if (valueless.has(option)) return undefined; // already reported by commandLineProblems
    if (typeof value === 'string') return { text: value, shown: `--${option} ${value}` };
    const variable = VALUE_OPTIONS[option].variable;
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === ''
      ? undefined
      : { text: fromEnv, shown: `${variable}=${fromEnv}` };
  };
  const integer = (option: ValueOption, fallback: number, min: number, max: number): number => {
    const setting = pick(option);
    if (setting === undefined) return fallback;
    // Digits only: Number() would also take '', '0x50', '1e3' and ' 7 '.
    const value = /^\d+$/.test(setting.text.trim()) ? Number(setting.text.trim()) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${setting.shown}: must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bytes = (option: ValueOption, fallback: number, max: number): number => {
    const setting = pick(option);
    if (setting === undefined) return fallback;
    const value = parseByteSize(setting.text);
    if (value === null) {
      problems.push(`${setting.shown}: not a byte size; write e.g. 2GiB, 512MiB or 1073741824`);
      return fallback;
    }
    if (value < 1 || value > max) {
      const range =
        max === Number.MAX_SAFE_INTEGER ? 'at least 1 byte' : `from 1 byte to ${formatBytes(max)}`;
      problems.push(`${setting.shown}: must be ${range}; e.g. ${VALUE_OPTIONS[option].example}`);
      return fallback;
    }
    return value;
  };
  const text = (option: ValueOption): string | null => pick(option)?.text ?? null;
  const share = (option: ValueOption, fallback: number): number => {
    const setting = pick(option);
    if (setting === undefined) return fallback;
    const value = parseShare(setting.text);
    if (value === null) {
      problems.push(
        `${setting.shown}: must be a share from 0 to 1 (or 0% to 100%); e.g. ${VALUE_OPTIONS[option].example}`,
      );
      return fallback;
    }
    return value;
  };

  const logLevel = pick('log-level');
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel.text as LogLevel)) {
    problems.push(`${logLevel.shown}: use one of ${LOG_LEVELS.join(', ')}`);
  }
  const host = text('host') ?? '127.0.0.1';
  const maxBatchBytes = bytes('max-batch-bytes', DEFAULT_SERVICE_LIMITS.maxBatchBytes, MAX_BATCH_BYTES_LIMIT);
  const batchMemoryBytes = bytes(
    'batch-memory',
    Math.max(DEFAULT_SERVICE_LIMITS.batchMemoryBytes, maxBatchBytes),
    Number.MAX_SAFE_INTEGER,
  );
  const batchMemory = pick('batch-memory');
  if (batchMemory !== undefined && batchMemoryBytes < maxBatchBytes) {
    problems.push(
      `${batchMemory.shown}: below the largest batch allowed (--max-batch-bytes ${formatBytes(maxBatchBytes)}), which could then never be prepared; raise it to at least ${formatBytes(maxBatchBytes)} or lower --max-batch-bytes`,
    );
  }
  const config: ServeConfig = {
    data: text('data'),
    datasetName: text('name'),
    host,
    port: integer('port', 50051, 0, 65535),
    metricsPort: pick('metrics-port')?.text === 'off' ? null : integer('metrics-port', 9464, 0, 65535),
    // Following --host keeps every setup written before --metrics-host as it was.
    metricsHost: text('metrics-host') ?? host,
    cacheMaxBytes: bytes('cache-bytes', 2 * 1024 ** 3, Number.MAX_SAFE_INTEGER),
    maxConcurrentLoads: integer('max-loads', DEFAULT_CONCURRENT_LOADS, 1, 1024),
    planCacheMaxBytes: bytes('plan-cache-bytes', DEFAULT_PLAN_CACHE_BYTES, Number.MAX_SAFE_INTEGER),
    strict: values.strict === true || envFlag(env, 'VOXELFEED_STRICT', problems),
    maxSkippedShare: share('max-skipped', DEFAULT_MAX_SKIPPED_SHARE),
    replaceBadSeries:
      values['replace-bad-series'] === true || envFlag(env, 'VOXELFEED_REPLACE_BAD_SERIES', problems),
    limits: {
      ...DEFAULT_SERVICE_LIMITS,
      maxCropVoxels: integer('max-crop-voxels', DEFAULT_SERVICE_LIMITS.maxCropVoxels, 1, 1024 ** 3),
      maxBatchBytes,
      batchMemoryBytes,
      maxStreams: integer('max-streams', DEFAULT_SERVICE_LIMITS.maxStreams, 1, 1_000_000),
      maxStreamsPerPeer: integer(
        'max-streams-per-peer',
        DEFAULT_SERVICE_LIMITS.maxStreamsPerPeer,
        1,
        1_000_000,
      ),
      keepaliveMs: integer('keepalive-ms', DEFAULT_SERVICE_LIMITS.keepaliveMs, 0, DAY_MS),
      idleTimeoutMs: integer('idle-timeout-ms', DEFAULT_SERVICE_LIMITS.idleTimeoutMs, 0, DAY_MS),
    },
    // Checked above: an unknown level is a problem, so it never reaches the returned config.
    logLevel: (logLevel?.text ?? 'info') as LogLevel,
    shutdownGraceMs: integer('shutdown-grace-ms', 10_000, 0, 3_600_000),
    tls: tlsFiles(pick('tls-cert'), pick('tls-key'), pick('tls-client-ca'), problems),
    authTokenFile: text('auth-token-file'),
  };
  if (problems.length > 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `bad options:\n  ${problems.join('\n  ')}\nRun voxelfeed serve --help for usage.`,
    );
  }
  return config;
}

type Token = ReturnType<typeof parseArgs>['tokens'] extends (infer T)[] | undefined ? T : never;

/**
 * Unknown options, options without their value, flags given a value and stray arguments; `valueless` holds
 * the options given without a value, so they are not checked (and reported) a second time.
 */
function commandLineProblems(tokens: readonly Token[]): { problems: string[]; valueless: Set<string> } {
  const problems: string[] = [];
  const valueless = new Set<string>();
  // Non-strict parseArgs cannot know that an unknown option takes a value: in `--bogus 3`, "3" is its value.
  const followers = new Set<number>();
  tokens.forEach((token, i) => {
    if (token.kind !== 'option') return;
    if (Object.hasOwn(VALUE_OPTIONS, token.name)) {
      const { example } = VALUE_OPTIONS[token.name as ValueOption];
      // `--port --host x` would take "--host" as the port.
      const swallowed = token.inlineValue === false && token.value?.startsWith('--') === true;
      if (token.value === undefined || token.value === '' || swallowed) {
        problems.push(`${token.rawName} needs a value; e.g. ${token.rawName} ${example}`);
        valueless.add(token.name);
      }
    } else if ((FLAG_OPTIONS as readonly string[]).includes(token.name)) {
      if (token.value !== undefined) {
        problems.push(
          `${token.rawName}=${token.value}: ${token.rawName} takes no value; give ${token.rawName} alone, or leave it out`,
        );
      }
    } else {
      problems.push(`unknown option ${token.rawName}; run voxelfeed serve --help for the options`);
      const next = tokens[i + 1];
      if (token.value === undefined && next?.kind === 'positional') followers.add(next.index);
    }
  });
  for (const token of tokens) {
    if (token.kind === 'positional' && !followers.has(token.index)) {
      problems.push(
        `unexpected argument ${JSON.stringify(token.value)}; serve takes options only, e.g. --data ${token.value}`,
      );
    }
  }
  return { problems, valueless };
}

/** The TLS files, null for plaintext; a cert without its key (or the reverse) or a lone client CA is a problem. */
function tlsFiles(
  cert: Setting | undefined,
  key: Setting | undefined,
  clientCa: Setting | undefined,
  problems: string[],
): ServeTlsFiles | null {
  if (cert !== undefined && key === undefined) {
    problems.push(`${cert.shown} needs --tls-key FILE (VOXELFEED_TLS_KEY), the certificate's private key`);
  }
  if (key !== undefined && cert === undefined) {
    problems.push(`${key.shown} needs --tls-cert FILE (VOXELFEED_TLS_CERT), the certificate of that key`);
  }
  if (clientCa !== undefined && cert === undefined) {
    problems.push(
      `${clientCa.shown} needs TLS: give --tls-cert FILE and --tls-key FILE too (client certificates are only checked over TLS)`,
    );
  }
  if (cert === undefined || key === undefined) return null;
  return { certFile: cert.text, keyFile: key.text, clientCaFile: clientCa?.text ?? null };
}
