import { defaultServeConfig } from '../../server/config/serve-config.js';
import { silentLogger } from '../../server/log/logger.js';
import { startServer } from '../../server/main.js';

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
    defaultServeConfig({ port: 0, metricsPort: 0, logLevel: 'silent', shutdownGraceMs: 0 }),
    env,
    silentLogger,
  );
  return { address: `127.0.0.1:${running.grpc.port}`, stop: () => running.stop() };
}
