import { benchGrpc } from './grpc-crops.js';

export interface MetricsCostResult {
  readonly offCropsPerSecond: number[];
  readonly onCropsPerSecond: number[];
  /** 1 - on / off, from the means: the share of throughput the metrics cost. */
  readonly cost: number;
}

/**
 * The cost of metrics on the hot path: crops/s over loopback gRPC from `serve --metrics-port off` (the no-op
 * telemetry: no registry) against `serve` with metrics, alternating off/on so drift on a shared machine hits
 * both alike.
 */
export async function benchMetricsCost(
  dir: string,
  options: {
    rounds: number;
    seconds: number;
    batchSize: number;
    crop: readonly [number, number, number];
    series: number;
  },
): Promise<MetricsCostResult> {
  const off: number[] = [];
  const on: number[] = [];
  const common = {
    seconds: options.seconds,
    batchSize: options.batchSize,
    crop: options.crop,
    series: options.series,
  };
  for (let round = 0; round < options.rounds; round++) {
    off.push(
      (
        await benchGrpc(dir, {
          ...common,
          flowControlWindow: 16 * 1024 * 1024,
          serverArgs: ['--metrics-port', 'off'],
        })
      ).cropsPerSecond,
    );
    on.push(
      (
        await benchGrpc(dir, {
          ...common,
          flowControlWindow: 16 * 1024 * 1024,
          serverArgs: ['--metrics-port', '0'],
        })
      ).cropsPerSecond,
    );
  }
  const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return { offCropsPerSecond: off, onCropsPerSecond: on, cost: 1 - mean(on) / mean(off) };
}
