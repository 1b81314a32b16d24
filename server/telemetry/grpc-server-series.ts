import { Counter, Histogram, type Registry } from 'prom-client';
import { GRPC_CODE_NAMES } from './grpc-code-name.js';
import type { CallTelemetry, GrpcMethodLabels } from './telemetry.js';

const METHOD_LABELS = ['grpc_type', 'grpc_service', 'grpc_method'] as const;

/**
 * go-grpc-prometheus's buckets (Prometheus' defaults, 5 ms to 10 s), which fit the unary calls, and longer
 * ones for StreamBatches, whose calls last an epoch: minutes to hours.
 */
export const HANDLING_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600,
];

/**
 * The standard gRPC server series, with go-grpc-prometheus's names, help texts and labels, so that dashboards
 * and alerts written for any gRPC server read them: calls started, handled by status code, their handling time,
 * and the messages received and sent.
 */
export class GrpcServerSeries implements CallTelemetry {
  private readonly startedTotal: Counter<(typeof METHOD_LABELS)[number]>;
  private readonly handledTotal: Counter<(typeof METHOD_LABELS)[number] | 'grpc_code'>;
  private readonly handlingSeconds: Histogram<(typeof METHOD_LABELS)[number]>;
  private readonly receivedTotal: Counter<(typeof METHOD_LABELS)[number]>;
  private readonly sentTotal: Counter<(typeof METHOD_LABELS)[number]>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.startedTotal = new Counter({
      name: 'grpc_server_started_total',
      help: 'Total number of RPCs started on the server.',
      labelNames: METHOD_LABELS,
      registers,
    });
    this.handledTotal = new Counter({
      name: 'grpc_server_handled_total',
      help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: [...METHOD_LABELS, 'grpc_code'],
      registers,
    });
    this.handlingSeconds = new Histogram({
      name: 'grpc_server_handling_seconds',
      help: 'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
      labelNames: METHOD_LABELS,
      buckets: HANDLING_BUCKETS,
      registers,
    });
    this.receivedTotal = new Counter({
      name: 'grpc_server_msg_received_total',
      help: 'Total number of RPC stream messages received on the server.',
      labelNames: METHOD_LABELS,
      registers,
    });
    this.sentTotal = new Counter({
      name: 'grpc_server_msg_sent_total',
      help: 'Total number of gRPC stream messages sent by the server.',
      labelNames: METHOD_LABELS,
      registers,
    });
  }

  /**
   * Every series of `method` at 0, each status code included, as go-grpc-prometheus's `InitializeMetrics` does:
   * rate() and increase() then see a method's first call and first error too.
   */
  declare(method: GrpcMethodLabels): void {
    this.startedTotal.inc(method, 0);
    this.receivedTotal.inc(method, 0);
    this.sentTotal.inc(method, 0);
    this.handlingSeconds.zero(method);
    for (const grpc_code of GRPC_CODE_NAMES) this.handledTotal.inc({ ...method, grpc_code }, 0);
  }

  started(method: GrpcMethodLabels): void {
    this.startedTotal.inc(method);
  }

  received(method: GrpcMethodLabels): void {
    this.receivedTotal.inc(method);
  }

  sent(method: GrpcMethodLabels): void {
    this.sentTotal.inc(method);
  }

  handled(method: GrpcMethodLabels, code: string, seconds: number): void {
    this.handledTotal.inc({ ...method, grpc_code: code });
    this.handlingSeconds.observe(method, seconds);
  }
}
