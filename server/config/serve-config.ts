import { availableParallelism } from 'node:os';
import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import {
  byteSize,
  choice,
  flag,
  formatByteSizeShort,
  integer,
  MAX_PORT,
  portOrOff,
  share,
  text,
} from '@voxelfeed/common/cli/option-kinds.js';

import { formatBytes } from '@voxelfeed/common/cli/parse-byte-size.js';
import {
  type CommandLine,
  parseCommandLine,
  throwIfProblems,
} from '@voxelfeed/common/cli/parse-command-line.js';
import { DEFAULT_PLAN_CACHE_BYTES } from '../batches/plan-cache.js';
import { DEFAULT_MAX_SKIPPED_SHARE, MAX_SKIPPED_VARIABLE } from '../dataset/catalog/skipped-share.js';
import type { LogLevel } from '../log/logger.js';
import { DEFAULT_SERVICE_LIMITS, type ServiceLimits } from '../service/service-limits.js';
import type { ServeTlsFiles } from './read-tls-files.js';

/** The server's settings, every one resolved (parseServeConfig fills each default once, here). */
export interface ServeConfig {
  /** A folder or manifest; null serves the embedded phantom data set. */
  readonly data: string | null;
  readonly datasetName: string | null;
  readonly host: string;
  readonly port: number;
  /** HTTP port of GET /metrics (Prometheus), on `metricsHost`; 0 picks a free one; null: no metrics. */
  readonly metricsPort: number | null;
  /** Address of GET /metrics, so gRPC can face the network while metrics stay on loopback (default: `host`). */
  readonly metricsHost: string;
  readonly cacheMaxBytes: number;
  /** Volumes read and decoded at once (the cache's maxConcurrentLoads). */
  readonly maxConcurrentLoads: number;
  /**
   * Worker threads that cut batches' crops and read and decode volumes, in shared memory (server/workers);
   * 0: all of it on the main thread.
   */
  readonly workers: number;
  /** Bytes of epoch plans kept (4 per item). */
  readonly planCacheMaxBytes: number;
  readonly strict: boolean;
  /** Refuse to start when more than this share (0..1) of the series is skipped at indexing. */
  readonly maxSkippedShare: number;
  /**
   * Replace the items of series found bad while serving by items of good series instead of failing their
   * streams (sampling/plan-without-series.ts).
   */
  readonly replaceBadSeries: boolean;
  readonly limits: ServiceLimits;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
  /** TLS (mutual with a client CA); null: plaintext. The files are read and checked at start-up (read-tls-files.ts). */
  readonly tls: ServeTlsFiles | null;
  /** Bearer tokens every call but the health check must carry, one per line; null: no token needed. */
  readonly authTokenFile: string | null;
}

/**
 * Loads at once by default: the decoding of gzip NRRD runs on libuv's 4 threads, so more loads add memory
 * (each holds a file and its decoded arrays) rather than speed.
 */
export const DEFAULT_CONCURRENT_LOADS = 4;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const satisfies readonly LogLevel[];
/** More threads than any host has cores only add memory. */
const MAX_WORKERS = 1024;
/** grpc-js sends larger messages, but no client should be asked to accept one. */
const MAX_BATCH_BYTES_LIMIT = 1024 ** 3;
/** The longest keepalive interval or idle timeout taken; longer ones are as good as off (0). */
const DAY_MS = 86_400_000;
const path = (example: string) => text({ placeholder: 'PATH', example });
const file = (example: string) => text({ placeholder: 'FILE', example });
const host = (example: string) => text({ placeholder: 'HOST', example });

/** `voxelfeed serve`: its options, variables, defaults and help lines. */
export const SERVE_COMMAND = command({
  name: 'voxelfeed serve',
  usage: 'Usage: voxelfeed serve [options]',
  summary:
    'Serves 3D crops of a data set over gRPC (voxelfeed.v1.VoxelFeed, with grpc.health.v1 and server reflection).',
  strayHint: (argument) => `e.g. --data ${argument}`,
  options: {
    data: option({
      kind: path('./data/luna16'),
      default: null,
      variable: 'VOXELFEED_DATA',
      help: 'folder in the LUNA16 preprocessed layout (<uid>_clean.nrrd, <uid>_mask.nrrd, <uid>_bboxes.npy) or a manifest (.csv or .json: id,image,mask,boxes); default: a small phantom data set, generated once into the cache folder',
    }),
    name: option({
      kind: text({ placeholder: 'NAME', example: 'luna16' }),
      default: null,
      variable: 'VOXELFEED_DATASET_NAME',
      help: "data set name in requests (default: the folder's name)",
    }),
    host: option({
      kind: host('0.0.0.0'),
      default: '127.0.0.1',
      variable: 'VOXELFEED_HOST',
      help: 'address to listen on ({default}; 0.0.0.0 for all)',
    }),
    port: option({
      kind: integer({ min: 0, max: MAX_PORT, example: '50051' }),
      default: 50051,
      variable: 'VOXELFEED_PORT',
      help: 'port ({default}; 0 picks a free one)',
    }),
    'metrics-port': option({
      kind: portOrOff({ example: '9464' }),
      default: 9464,
      variable: 'VOXELFEED_METRICS_PORT',
      help: 'HTTP port of /metrics for Prometheus ({default}; 0: a free one; off: no metrics at all)',
    }),
    'metrics-host': option({
      kind: host('127.0.0.1'),
      default: null,
      variable: 'VOXELFEED_METRICS_HOST',
      help: 'address of /metrics (default: the same as --host)',
    }),
    'cache-bytes': option({
      kind: byteSize({ example: '2GiB' }),
      default: 2 * 1024 ** 3,
      variable: 'VOXELFEED_CACHE_BYTES',
      help: 'decoded volumes kept in memory, e.g. 2GiB, 512MiB',
    }),
    'max-loads': option({
      kind: integer({ min: 1, max: 1024, example: '4' }),
      default: DEFAULT_CONCURRENT_LOADS,
      variable: 'VOXELFEED_MAX_LOADS',
      help: 'volumes read and decoded at once ({default}); memory beside the cache is about N decoded volumes (more rarely helps: libuv runs 4 threads)',
    }),
    workers: option({
      kind: integer({ min: 0, max: MAX_WORKERS, example: '3' }),
      default: null,
      defaultText: 'the cores less one, at least 1',
      variable: 'VOXELFEED_WORKERS',
      help: 'threads that cut crops and decode volumes while the main thread frames and sends ({default}; 0: all on the main thread); each adds its own heap, about 10 MiB, besides the cache and batch memory',
    }),
    'plan-cache-bytes': option({
      kind: byteSize({ example: '256MiB' }),
      default: DEFAULT_PLAN_CACHE_BYTES,
      variable: 'VOXELFEED_PLAN_CACHE_BYTES',
      help: 'epoch plans kept in memory, 4 bytes per item ({default}); a larger plan is built for its streams and not kept',
    }),
    strict: option({
      kind: flag(),
      default: false,
      variable: 'VOXELFEED_STRICT',
      help: 'refuse to start when any series is bad (default: report, skip)',
    }),
    'max-skipped': option({
      kind: share({ example: '0.1' }),
      default: DEFAULT_MAX_SKIPPED_SHARE,
      variable: MAX_SKIPPED_VARIABLE,
      help: 'refuse to start when more than this share of the series is bad and skipped, e.g. 0.1 or 10% ({default}; 1: any share); the share is printed on stderr; voxelfeed index PATH lists why each was skipped',
    }),
    'replace-bad-series': option({
      kind: flag(),
      default: false,
      variable: 'VOXELFEED_REPLACE_BAD_SERIES',
      help: "serve other series' items in place of a series found unreadable while serving (missing, truncated or corrupt file) instead of ending streams with DATA_LOSS; batches then depend on which series were found bad (default: off)",
    }),
    'max-crop-voxels': option({
      kind: integer({ min: 1, max: 1024 ** 3, example: '2097152' }),
      default: DEFAULT_SERVICE_LIMITS.maxCropVoxels,
      variable: 'VOXELFEED_MAX_CROP_VOXELS',
      help: 'largest crop per sample',
    }),
    'max-batch-bytes': option({
      kind: byteSize({ max: MAX_BATCH_BYTES_LIMIT, example: '64MiB' }),
      default: DEFAULT_SERVICE_LIMITS.maxBatchBytes,
      variable: 'VOXELFEED_MAX_BATCH_BYTES',
      help: 'largest batch message ({default}, at most 1GiB)',
    }),
    'batch-memory': option({
      kind: byteSize({ example: '256MiB' }),
      default: null,
      defaultText: `${formatByteSizeShort(DEFAULT_SERVICE_LIMITS.batchMemoryBytes)}, or --max-batch-bytes if larger`,
      variable: 'VOXELFEED_BATCH_MEMORY',
      help: 'encoded batches held at once over all streams: being prepared, waiting, or with gRPC; more wait for room ({default}); given back after 5 s without traffic',
    }),
    'max-streams': option({
      kind: integer({ min: 1, max: 1_000_000, example: '256' }),
      default: DEFAULT_SERVICE_LIMITS.maxStreams,
      variable: 'VOXELFEED_MAX_STREAMS',
      help: 'streams (StreamBatches, StreamTiles) served at once, all clients',
    }),
    'max-streams-per-peer': option({
      kind: integer({ min: 1, max: 1_000_000, example: '32' }),
      default: DEFAULT_SERVICE_LIMITS.maxStreamsPerPeer,
      variable: 'VOXELFEED_MAX_STREAMS_PER_PEER',
      help: 'calls at once from one client host, all its ranks',
    }),
    'keepalive-ms': option({
      kind: integer({ min: 0, max: DAY_MS, example: '60000' }),
      default: DEFAULT_SERVICE_LIMITS.keepaliveMs,
      variable: 'VOXELFEED_KEEPALIVE_MS',
      help: 'ping every connection this often, close it if no answer in 20 s ({default}; 0: no pings)',
    }),
    'idle-timeout-ms': option({
      kind: integer({ min: 0, max: DAY_MS, example: '600000' }),
      default: DEFAULT_SERVICE_LIMITS.idleTimeoutMs,
      variable: 'VOXELFEED_IDLE_TIMEOUT_MS',
      help: 'close a connection with no call for this long ({default}; 0: never); clients reconnect at their next call',
    }),
    'shutdown-grace-ms': option({
      kind: integer({ min: 0, max: 3_600_000, example: '10000' }),
      default: 10_000,
      variable: 'VOXELFEED_SHUTDOWN_GRACE_MS',
      help: 'time open streams get on SIGTERM',
    }),
    'tls-cert': option({
      kind: file('/etc/voxelfeed/tls/server.crt'),
      default: null,
      variable: 'VOXELFEED_TLS_CERT',
      help: 'serve TLS with this PEM certificate chain (needs --tls-key)',
    }),
    'tls-key': option({
      kind: file('/etc/voxelfeed/tls/server.key'),
      default: null,
      variable: 'VOXELFEED_TLS_KEY',
      help: "the certificate's unencrypted PEM private key",
    }),
    'tls-client-ca': option({
      kind: file('/etc/voxelfeed/tls/client-ca.crt'),
      default: null,
      variable: 'VOXELFEED_TLS_CLIENT_CA',
      help: 'mutual TLS: require client certificates signed by this PEM CA',
    }),
    'auth-token-file': option({
      kind: file('/etc/voxelfeed/tokens'),
      default: null,
      variable: 'VOXELFEED_AUTH_TOKEN_FILE',
      help: 'require "authorization: Bearer <token>" with a token of this file (one per line; # comments; several for rotation; health is open)',
    }),
    'log-level': option({
      kind: choice(LOG_LEVELS, { placeholder: 'LEVEL' }),
      default: 'info',
      variable: 'VOXELFEED_LOG_LEVEL',
      help: 'debug, info, warn, error or silent',
    }),
  },
  notes: `The cache folder (for the default data set) is $VOXELFEED_CACHE_DIR, else $XDG_CACHE_HOME/voxelfeed, else
~/.cache/voxelfeed. Logs are JSON lines on stderr. The first line on stdout is "listening on HOST:PORT",
the second "metrics on http://HOST:PORT/metrics".`,
});

export const SERVE_HELP = formatHelp(SERVE_COMMAND);

/** Every default of SERVE_COMMAND, with `overrides` on top: a config for servers started in code (tests, benchmarks). */
export function defaultServeConfig(overrides: Partial<ServeConfig> = {}): ServeConfig {
  return { ...(parseServeConfig([], {}) as ServeConfig), ...overrides };
}

/**
 * Builds the server's config from flags, then `VOXELFEED_*` variables, then defaults (SERVE_COMMAND), and
 * reports every problem at once (a UsageError, INVALID_ARGUMENT, whose message lists them, each naming
 * the value, where it came from and the fix).
 */
export function parseServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig | 'help' {
  const line = parseCommandLine(SERVE_COMMAND, argv, env);
  if (line === 'help') return 'help';
  const { values, settings, problems } = line;
  const maxBatchBytes = values['max-batch-bytes'];
  const batchMemoryBytes =
    values['batch-memory'] ?? Math.max(DEFAULT_SERVICE_LIMITS.batchMemoryBytes, maxBatchBytes);
  if (settings['batch-memory'] !== null && batchMemoryBytes < maxBatchBytes) {
    problems.push(
      `${line.shown('batch-memory')}: below the largest batch allowed (--max-batch-bytes ${formatBytes(maxBatchBytes)}), which could then never be prepared; raise it to at least ${formatBytes(maxBatchBytes)} or lower --max-batch-bytes`,
    );
  }
  const config: ServeConfig = {
    data: values.data,
    datasetName: values.name,
    host: values.host,
    port: values.port,
    metricsPort: values['metrics-port'],
    // Following --host keeps every setup written before --metrics-host as it was.
    metricsHost: values['metrics-host'] ?? values.host,
    cacheMaxBytes: values['cache-bytes'],
    maxConcurrentLoads: values['max-loads'],
    // One core stays for the main thread, which plans, frames and writes every stream's batches.
    workers: values.workers ?? Math.max(1, availableParallelism() - 1),
    planCacheMaxBytes: values['plan-cache-bytes'],
    strict: values.strict,
    maxSkippedShare: values['max-skipped'],
    replaceBadSeries: values['replace-bad-series'],
    limits: {
      ...DEFAULT_SERVICE_LIMITS,
      maxCropVoxels: values['max-crop-voxels'],
      maxBatchBytes,
      batchMemoryBytes,
      maxStreams: values['max-streams'],
      maxStreamsPerPeer: values['max-streams-per-peer'],
      keepaliveMs: values['keepalive-ms'],
      idleTimeoutMs: values['idle-timeout-ms'],
    },
    logLevel: values['log-level'],
    shutdownGraceMs: values['shutdown-grace-ms'],
    tls: tlsFiles(line, problems),
    authTokenFile: values['auth-token-file'],
  };
  throwIfProblems(SERVE_COMMAND, problems);
  return config;
}

/** The TLS files, null for plaintext; a cert without its key (or the reverse) or a lone client CA is a problem. */
function tlsFiles(line: CommandLine<typeof SERVE_COMMAND.options>, problems: string[]): ServeTlsFiles | null {
  const { values } = line;
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  const clientCa = values['tls-client-ca'];
  if (cert !== null && key === null) {
    problems.push(
      `${line.shown('tls-cert')} needs --tls-key FILE (VOXELFEED_TLS_KEY), the certificate's private key`,
    );
  }
  if (key !== null && cert === null) {
    problems.push(
      `${line.shown('tls-key')} needs --tls-cert FILE (VOXELFEED_TLS_CERT), the certificate of that key`,
    );
  }
  if (clientCa !== null && cert === null) {
    problems.push(
      `${line.shown('tls-client-ca')} needs TLS: give --tls-cert FILE and --tls-key FILE too (client certificates are only checked over TLS)`,
    );
  }
  if (cert === null || key === null) return null;
  return { certFile: cert, keyFile: key, clientCaFile: clientCa };
}
