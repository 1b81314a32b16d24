import { credentials } from '@grpc/grpc-js';
import { type Batch, DType, StreamBatchesRequest, VoxelFeedClient } from '../gen/voxelfeed/v1/voxelfeed.js';
import { spawnServer } from '../test/support/spawn-server.js';

/**
 * (c) Seconds from spawning `voxelfeed serve` (node start, TypeScript loading, indexing every header and box
 * file) to the first batch received by a client, on a catalog of many series.
 */
export async function benchTimeToFirstBatch(
  dir: string,
  crop: readonly [number, number, number],
): Promise<{ listenSeconds: number; firstBatchSeconds: number }> {
  const started = performance.now();
  const server = await spawnServer(['--data', dir, '--log-level', 'warn']);
  const listenSeconds = (performance.now() - started) / 1000;
  const client = new VoxelFeedClient(server.address, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const stream = client.streamBatches(
        StreamBatchesRequest.fromPartial({
          seed: 1n,
          batchSize: 8,
          cropSize: [...crop],
          dtype: DType.DTYPE_UINT8,
          includeMask: true,
          maxSteps: 1n,
        }),
      );
      stream.on('data', (_batch: Batch) => resolve());
      stream.on('error', reject);
    });
    return { listenSeconds, firstBatchSeconds: (performance.now() - started) / 1000 };
  } finally {
    client.close();
    await server.stop();
  }
}
