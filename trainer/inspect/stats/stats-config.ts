import { DEFAULT_RECONNECT, parseAddress, type StreamBatchesInput } from '@voxelfeed/client';
import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import { address, integer, text } from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';
import {
  FEED_SECURITY_OPTIONS,
  type FeedTlsFiles,
  feedTlsFiles,
} from '../../config/feed-connection-options.js';
import { BATCH_REQUEST_OPTIONS, batchRequestInput } from '../batch-request-options.js';

export interface StatsConfig {
  /** host:port or dns:///NAME:PORT of the server. */
  readonly server: string;
  /** The StreamBatches request whose crops are counted; masks are never asked for. */
  readonly request: StreamBatchesInput & { readonly cropSize: readonly [number, number, number] };
  /** Where to write the PNG histograms; null: none. */
  readonly pngDir: string | null;
  readonly tls: FeedTlsFiles | null;
  readonly authTokenFile: string | null;
  readonly reconnectAttempts: number;
}

/** `voxelfeed stats`: its options, variables, defaults and help lines. */
export const STATS_COMMAND = command({
  name: 'voxelfeed stats',
  usage: 'Usage: voxelfeed stats --server HOST:PORT [request options] [--steps N] [--png-dir DIR]',
  summary: `Counts what a rank's epoch of crops really holds: streams the batches a StreamBatches request gets
(the whole epoch of --rank, or --steps N from --start-step) without their masks, and reports per crop mode
(jitter, center, negative) and for all crops: how many, the share holding any nodule voxel, the share
holding the whole nodule they were drawn for, foreground voxels per crop (mean, median, p90), where the
nodule's centre sits in the crop along each axis (mean, standard deviation, a 10-bin histogram), and how
many negative crops touch a nodule.`,
  options: {
    server: option({
      kind: address({ example: '127.0.0.1:50051', parse: parseAddress }),
      default: '127.0.0.1:50051',
      variable: 'VOXELFEED_SERVER',
      help: 'the data server, HOST:PORT or dns:///NAME:PORT ({default})',
    }),
    ...BATCH_REQUEST_OPTIONS,
    'png-dir': option({
      kind: text({ placeholder: 'DIR', example: './stats' }),
      default: null,
      help: 'also write PNG histograms here (created if absent): centre positions per mode, foreground voxels',
    }),
    'reconnect-attempts': option({
      kind: integer({ min: 1, max: 1_000_000, example: '20' }),
      default: DEFAULT_RECONNECT.maxAttempts,
      variable: 'VOXELFEED_RECONNECT_ATTEMPTS',
      help: 'give up after N failed connection attempts in a row ({default}); a stream resumes at its next step',
    }),
    ...FEED_SECURITY_OPTIONS,
  },
  notes: `The figures come from each sample's record (SampleInfo: mode, origin, the nodule's centre and diameter,
and foreground_voxels, which the server counts whether or not the mask is sent), so the request asks for no
masks: the server sends the images only, half the bytes of uint8 crops with masks.

Prints a table on stdout, then one JSON line with every figure. docs/inspect.md says what each figure means.`,
});

export const STATS_HELP = formatHelp(STATS_COMMAND);

/**
 * Reads flags, then VOXELFEED_* variables, then defaults (STATS_COMMAND); every problem is reported in one
 * UsageError.
 */
export function parseStatsConfig(argv: readonly string[], env: NodeJS.ProcessEnv): StatsConfig | 'help' {
  const line = parseCommandLine(STATS_COMMAND, argv, env);
  if (line === 'help') return 'help';
  const { values, problems } = line;
  const input = batchRequestInput(line, problems);
  const config: StatsConfig = {
    server: values.server,
    request: { ...input, cropSize: values.crop, includeMask: false },
    pngDir: values['png-dir'],
    tls: feedTlsFiles(line, problems),
    authTokenFile: values['auth-token-file'],
    reconnectAttempts: values['reconnect-attempts'],
  };
  throwIfProblems(STATS_COMMAND, problems);
  return config;
}
