import { credentials } from '@grpc/grpc-js';
import { type Batch, DType, StreamBatchesRequest, VoxelFeedClient } from '../gen/voxelfeed/v1/voxelfeed.js';
import { spawnServer } from '../test/support/spawn-server.js';

export interface GrpcResult {
  readonly crops: number;
  readonly seconds: number;
  readonly cropsPerSecond: number;
  readonly megabytesPerSecond: number;
}

/**
 * (b) Crops per second received by one client over loopback gRPC from a `voxelfeed serve` process with a
 * warm cache. The client decodes every batch (ts-proto), as a trainer would.
 */
export async function benchGrpc(
  dir: string,
  options: {
    seconds: number;
    batchSize: number;
    crop: readonly [number, number, number];
    series: number;
    flowControlWindow?: number;
    /** Extra `voxelfeed serve` flags, e.g. ['--metrics-port', 'off']. */
    serverArgs?: readonly string[];
  },
): Promise<GrpcResult> {
  const server = await spawnServer([
    '--data',
    dir,
    '--cache-bytes',
    '2GiB',
    '--log-level',
    'warn',
    ...(options.serverArgs ?? []),
  ]);
  const client = new VoxelFeedClient(server.address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    ...(options.flowControlWindow ? { 'grpc-node.flow_control_window': options.flowControlWindow } : {}),
  });
  const request = (seconds: number) =>
    new Promise<{ crops: number; bytes: number; seconds: number }>((resolve, reject) => {
      const stream = client.streamBatches(
        // Unset fields are the wire defaults (data set "", epoch 0, rank 0 of 1, from step 0 to the end).
        StreamBatchesRequest.fromPartial({
          seed: 1n,
          batchSize: options.batchSize,
          cropSize: [...options.crop],
          sampling: { samplesPerNodule: 1, negativesPerEpoch: options.series * 200 },
          dtype: DType.DTYPE_UINT8,
          includeMask: true,
        }),
      );
      let crops = 0;
      let bytes = 0;
      const started = performance.now();
      stream.on('data', (batch: Batch) => {
        crops += batch.samples.length;
        bytes += batch.image.length + batch.mask.length;
        if (performance.now() - started > seconds * 1000) stream.cancel();
      });
      const finish = () => resolve({ crops, bytes, seconds: (performance.now() - started) / 1000 });
      stream.on('end', finish);
      stream.on('error', (error: { code?: number }) => (error.code === 1 ? finish() : reject(error)));
    });
  try {
    await request(Math.max(3, options.seconds / 2)); // warm the server's cache and both JITs
    const measured = await request(options.seconds);
    return {
      crops: measured.crops,
      seconds: measured.seconds,
      cropsPerSecond: measured.crops / measured.seconds,
      megabytesPerSecond: measured.bytes / 1e6 / measured.seconds,
    };
  } finally {
    client.close();
    await server.stop();
  }
}
