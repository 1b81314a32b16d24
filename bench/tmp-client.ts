import { credentials } from '@grpc/grpc-js';
import { type Batch, VoxelFeedClient } from '../gen/voxelfeed/v1/voxelfeed.js';

const client = new VoxelFeedClient(process.argv[2]!, credentials.createInsecure(), {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc-node.flow_control_window': 16 << 20,
});
const run = (seconds: number) =>
  new Promise<void>((resolve) => {
    const stream = client.streamBatches({
      dataset: '',
      seed: 1n,
      epoch: 0,
      rank: 0,
      worldSize: 1,
      batchSize: 8,
      cropSize: [16, 96, 96],
      sampling: {
        jitterProb: 0,
        negativeProb: 0,
        centerProb: 0,
        samplesPerNodule: 1,
        negativesPerEpoch: 12800,
        padValue: 0,
      },
      dtype: 1,
      includeMask: process.env.MASK === '1',
      startStep: 0n,
      maxSteps: 0n,
    });
    let crops = 0;
    const t = performance.now();
    stream.on('data', (b: Batch) => {
      crops += b.samples.length;
      if (performance.now() - t > seconds * 1000) stream.cancel();
    });
    const done = () => {
      console.log('crops/s', (crops / ((performance.now() - t) / 1000)).toFixed(0));
      resolve();
    };
    stream.on('end', done);
    stream.on('error', done);
  });
await run(3);
await run(6);
client.close();
