import { type ChannelOptions, credentials } from '@grpc/grpc-js';
import { VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { defaultServeConfig, type ServeConfig } from '../../server/config/serve-config.js';
import { type Logger, silentLogger } from '../../server/log/logger.js';
import { type RunningServer, type ServerHooks, startServer } from '../../server/main.js';
import { DEFAULT_SERVICE_LIMITS, type ServiceLimits } from '../../server/service/service-limits.js';

export const LARGE_MESSAGES: ChannelOptions = {
  'grpc.max_receive_message_length': 256 * 1024 * 1024,
};

export interface TestServer {
  readonly address: string;
  readonly running: RunningServer;
  readonly client: VoxelFeedClient;
  close(): Promise<void>;
}

/** A real voxelfeed server in this process, on 127.0.0.1 and an ephemeral port, with a client connected to it. */
export async function startTestServer(options: {
  data: string;
  cacheMaxBytes?: number;
  limits?: Partial<ServiceLimits>;
  strict?: boolean;
  hooks?: ServerHooks;
  /** Any other settings (datasetName, tls, replaceBadSeries...), over the ones above. */
  config?: Partial<ServeConfig>;
  /** Where the server logs; default: nowhere. */
  logger?: Logger;
}): Promise<TestServer> {
  const config = defaultServeConfig({
    data: options.data,
    port: 0,
    metricsPort: 0,
    cacheMaxBytes: options.cacheMaxBytes ?? 256 * 1024 * 1024,
    strict: options.strict ?? false,
    limits: { ...DEFAULT_SERVICE_LIMITS, ...options.limits },
    logLevel: 'silent',
    shutdownGraceMs: 0,
    ...options.config,
  });
  const running = await startServer(config, {}, options.logger ?? silentLogger, options.hooks);
  const address = `127.0.0.1:${running.grpc.port}`;
  const client = new VoxelFeedClient(address, credentials.createInsecure(), LARGE_MESSAGES);
  return {
    address,
    running,
    client,
    close: async () => {
      client.close();
      await running.stop();
    },
  };
}

/** The server's Prometheus page, as a scrape reads it. */
export async function scrapeMetrics(running: RunningServer): Promise<string> {
  const port = running.metricsPort;
  if (port === null) throw new Error('the test server serves no metrics (metricsPort is null)');
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  return response.text();
}
