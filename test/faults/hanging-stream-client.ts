/**
 * A trainer that stops mid-stream: opens one StreamBatches call with a raw grpc-js client, reads `batches`
 * batches, prints "received N" on stdout, then stops reading and waits to be killed. Run by
 * client-vanishes.test.ts as `node --import tsx hanging-stream-client.ts HOST:PORT BATCHES`.
 */
import { credentials } from '@grpc/grpc-js';
import { SamplingOptions, VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { baseStreamRequest } from '../support/grpc-calls.js';
import { LARGE_MESSAGES } from '../support/test-server.js';

const [address, wanted] = process.argv.slice(2);
if (address === undefined || wanted === undefined) {
  process.stderr.write('usage: hanging-stream-client.ts HOST:PORT BATCHES\n');
  process.exit(2);
}
// grpc-js's default 64 KiB window instead of 16 MiB: once this client stops reading, the server is held up
// after a few batches instead of pouring the epoch into this process's buffers.
const client = new VoxelFeedClient(address, credentials.createInsecure(), {
  ...LARGE_MESSAGES,
  'grpc-node.flow_control_window': 65_535,
});
const call = client.streamBatches(
  baseStreamRequest({
    batchSize: 1,
    cropSize: [16, 32, 32],
    includeMask: true,
    sampling: SamplingOptions.fromPartial({ negativesPerEpoch: 5000 }),
  }),
);
let received = 0;
call.on('data', () => {
  received += 1;
  if (received === Number(wanted)) {
    call.pause();
    process.stdout.write(`received ${received}\n`);
  }
});
call.on('error', (error) => {
  process.stderr.write(`stream failed: ${error.message}\n`);
  process.exit(1);
});
call.on('end', () => {
  process.stderr.write('the stream ended before the client was killed\n');
  process.exit(1);
});
