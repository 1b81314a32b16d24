import { parseArgs } from 'node:util';
import { VoxelfeedError } from '../errors.js';
import type { LogLevel } from '../log/logger.js';
import { DEFAULT_SERVICE_LIMITS, type ServiceLimits } from '../service/service-limits.js';
import { parseByteSize } from './parse-byte-size.js';

export interface ServeConfig {
  /** A folder or manifest; null serves the embedded phantom data set. */
  readonly data: string | null;
  readonly datasetName: string | null;
  readonly host: string;
  readonly port: number;
  readonly cacheMaxBytes: number;
  readonly strict: boolean;
  readonly limits: ServiceLimits;
  readonly logLevel: LogLevel;
  readonly shutdownGraceMs: number;
}

export const SERVE_HELP = `Usage: voxelfeed serve [options]

Serves 3D crops of a data set over gRPC (voxelfeed.v1.VoxelFeed, with grpc.health.v1 and server reflection).

Options (each also read from the environment variable shown):
  --data PATH            folder in the LUNA16 preprocessed layout (<uid>_clean.nrrd, <uid>_mask.nrrd,
                         <uid>_bboxes.npy) or a manifest (.csv or .json: id,image,mask,boxes)    VOXELFEED_DATA
                         default: a small phantom data set, generated once into the cache folder
  --name NAME            data set name in requests (default: the folder's name)            VOXELFEED_DATASET_NAME
  --host HOST            address to listen on (default 127.0.0.1; 0.0.0.0 for all)         VOXELFEED_HOST
  --port N               port (default 50051; 0 picks a free one)                           VOXELFEED_PORT
  --cache-bytes SIZE     decoded volumes kept in memory, e.g. 2GiB, 512MiB (default 2GiB)   VOXELFEED_CACHE_BYTES
  --strict               refuse to start when any series is bad (default: report, skip)    VOXELFEED_STRICT=1
  --max-crop-voxels N    largest crop per sample (default ${DEFAULT_SERVICE_LIMITS.maxCropVoxels})                VOXELFEED_MAX_CROP_VOXELS
  --max-batch-bytes SIZE largest batch message (default 64MiB)                             VOXELFEED_MAX_BATCH_BYTES
  --shutdown-grace-ms N  time open streams get on SIGTERM (default 10000)                   VOXELFEED_SHUTDOWN_GRACE_MS
  --log-level LEVEL      debug, info, warn, error or silent (default info)                 VOXELFEED_LOG_LEVEL
  -h, --help             show this text

Logs are JSON lines on stderr. The first line on stdout is "listening on HOST:PORT".`;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/**
 * Builds the server's config from flags, then `VOXELFEED_*` variables, then defaults, and reports every
 * problem at once (an INVALID_ARGUMENT error whose message lists them, each with its fix).
 */
export function parseServeConfig(argv: readonly string[], env: NodeJS.ProcessEnv): ServeConfig | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      data: { type: 'string' },
      name: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      'cache-bytes': { type: 'string' },
      strict: { type: 'boolean' },
      'max-crop-voxels': { type: 'string' },
      'max-batch-bytes': { type: 'string' },
      'shutdown-grace-ms': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const problems: string[] = [];
  const pick = (flag: keyof typeof values, variable: string): string | undefined => {
    const value = values[flag];
    if (typeof value === 'string') return value;
    const fromEnv = env[variable];
    return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
  };
  const integer = (
    text: string | undefined,
    fallback: number,
    name: string,
    min: number,
    max: number,
  ): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      problems.push(`${name} ${text}: must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bytes = (text: string | undefined, fallback: number, name: string): number => {
    if (text === undefined) return fallback;
    const value = parseByteSize(text);
    if (value === null || value < 1) {
      problems.push(`${name} ${text}: not a byte size; write e.g. 2GiB, 512MiB or 1073741824`);
      return fallback;
    }
    return value;
  };
  const logLevelText = pick('log-level', 'VOXELFEED_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevelText as LogLevel)) {
    problems.push(`--log-level ${logLevelText}: use one of ${LOG_LEVELS.join(', ')}`);
  }
  const strictEnv = env['VOXELFEED_STRICT'];
  const config: ServeConfig = {
    data: pick('data', 'VOXELFEED_DATA') ?? null,
    datasetName: pick('name', 'VOXELFEED_DATASET_NAME') ?? null,
    host: pick('host', 'VOXELFEED_HOST') ?? '127.0.0.1',
    port: integer(pick('port', 'VOXELFEED_PORT'), 50051, '--port', 0, 65535),
    cacheMaxBytes: bytes(pick('cache-bytes', 'VOXELFEED_CACHE_BYTES'), 2 * 1024 ** 3, '--cache-bytes'),
    strict: values.strict === true || strictEnv === '1' || strictEnv === 'true',
    limits: {
      ...DEFAULT_SERVICE_LIMITS,
      maxCropVoxels: integer(
        pick('max-crop-voxels', 'VOXELFEED_MAX_CROP_VOXELS'),
        DEFAULT_SERVICE_LIMITS.maxCropVoxels,
        '--max-crop-voxels',
        1,
        1024 ** 3,
      ),
      maxBatchBytes: bytes(
        pick('max-batch-bytes', 'VOXELFEED_MAX_BATCH_BYTES'),
        DEFAULT_SERVICE_LIMITS.maxBatchBytes,
        '--max-batch-bytes',
      ),
    },
    logLevel: logLevelText as LogLevel,
    shutdownGraceMs: integer(
      pick('shutdown-grace-ms', 'VOXELFEED_SHUTDOWN_GRACE_MS'),
      10_000,
      '--shutdown-grace-ms',
      0,
      3_600_000,
    ),
  };
  if (config.limits.maxBatchBytes > 1024 ** 3) {
    problems.push(
      `--max-batch-bytes ${config.limits.maxBatchBytes}: gRPC messages are limited to 1GiB here; lower it`,
    );
  }
  if (problems.length > 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `bad options:\n  ${problems.join('\n  ')}\nRun voxelfeed serve --help for usage.`,
    );
  }
  return config;
}
