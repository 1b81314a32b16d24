import type { ListenEndpoint } from '@voxelfeed/common/listen-failure.js';
import type { ServeConfig } from './serve-config.js';

export interface ServeEndpoints {
  readonly grpc: ListenEndpoint;
  /** null with --metrics-port off. */
  readonly metrics: ListenEndpoint | null;
}

/** Where `voxelfeed serve` listens, with the options that set each address, for messages on a failed listen. */
export function serveEndpoints(
  config: Pick<ServeConfig, 'host' | 'port' | 'metricsHost' | 'metricsPort'>,
): ServeEndpoints {
  return {
    grpc: {
      role: 'gRPC',
      host: config.host,
      port: config.port,
      hostOption: '--host (VOXELFEED_HOST)',
      portOption: '--port (VOXELFEED_PORT)',
      portInUseFix:
        'set --port (VOXELFEED_PORT) to another port, or to 0 for a free one (printed as "listening on HOST:PORT")',
    },
    metrics:
      config.metricsPort === null
        ? null
        : {
            role: '/metrics',
            host: config.metricsHost,
            port: config.metricsPort,
            hostOption: '--metrics-host (VOXELFEED_METRICS_HOST, default: --host)',
            portOption: '--metrics-port (VOXELFEED_METRICS_PORT)',
            portInUseFix:
              'set --metrics-port (VOXELFEED_METRICS_PORT) to 0 for a free port (printed as "metrics on URL"), to off for no metrics, or to another port',
          },
  };
}
