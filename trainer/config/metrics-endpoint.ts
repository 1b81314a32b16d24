import type { ListenEndpoint } from '@voxelfeed/common/listen-failure.js';
import type { TrainConfig } from './train-config.js';

/**
 * Where a trainer rank serves /metrics, with the options that set it, for the message on a failed listen.
 * Several ranks on one host all default to 9465, hence the fix names one port per rank.
 */
export function metricsEndpoint(
  config: Pick<TrainConfig, 'metricsHost'> & { readonly metricsPort: number },
): ListenEndpoint {
  return {
    role: "the trainer's /metrics",
    host: config.metricsHost,
    port: config.metricsPort,
    hostOption: '--metrics-host (VOXELFEED_METRICS_HOST)',
    portOption: '--metrics-port (VOXELFEED_TRAIN_METRICS_PORT)',
    portInUseFix:
      'set --metrics-port (VOXELFEED_TRAIN_METRICS_PORT) to 0 for a free port (logged as "metrics on URL"), to off for no metrics, or to one port per rank',
  };
}
