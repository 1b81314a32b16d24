import { silentLogger } from '../../server/log/logger.js';
import { startServer } from '../../server/main.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';

export interface EmbeddedServer {
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * A voxelfeed server in this process on 127.0.0.1 and a free port, serving the embedded phantom data set
 * (generated into the cache folder on first use, like `voxelfeed serve` without --data) with the serve
 * defaults: 2 GiB cache, metrics on (the production hot path), logs off.
 */
export async function startEmbeddedServer(env: NodeJS.ProcessEnv): Promise<EmbeddedServer> {
  const running = await startServer(
    {
      data: null,
      datasetName: null,
      host: '127.0.0.1',
      port: 0,
      metricsPort: 0,
      cacheMaxBytes: 2 * 1024 ** 3,
      strict: false,
      limits: DEFAULT_SERVICE_LIMITS,
      logLevel: 'silent',
      shutdownGraceMs: 0,
    },
    env,
    silentLogger,
  );
  return { address: `127.0.0.1:${running.grpc.port}`, stop: () => running.stop() };
}
