// Times the TypeScript client's decodeBatch on float32 batches as grpc-js receives them from a real server.
// Usage: node --import tsx bench/decode-float32.ts [batches]   (not a part of npm run bench: a before/after check)
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { decodeBatch } from '../client/decode-batch.js';
import { DType, SamplingOptions, VoxelFeedService } from '../gen/voxelfeed/v1/voxelfeed.js';
import { baseStreamRequest } from '../test/support/grpc-calls.js';
import { createPhantomDataset } from '../test/support/phantom-dataset.js';
import { LARGE_MESSAGES, startTestServer } from '../test/support/test-server.js';

const batches = Number(process.argv[2] ?? 200);
const warmup = 10;
const dataset = await createPhantomDataset({ series: 6, shape: [32, 128, 128], seed: 3n });
const server = await startTestServer({ data: dataset.dir });
const client = new Client(server.address, credentials.createInsecure(), LARGE_MESSAGES);
const times: number[] = [];
let views = 0;
const request = baseStreamRequest({
  batchSize: 8,
  cropSize: [16, 96, 96],
  dtype: DType.DTYPE_FLOAT32,
  includeMask: false,
  sampling: SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 8 * (batches + warmup) }),
  maxSteps: BigInt(batches + warmup),
});
const { path, requestSerialize } = VoxelFeedService.streamBatches;
await new Promise<void>((resolve, reject) => {
  let seen = 0;
  const call = client.makeServerStreamRequest(
    path,
    requestSerialize as (value: typeof request) => Buffer,
    (bytes: Buffer) => {
      const started = performance.now();
      const batch = decodeBatch(bytes);
      const ms = performance.now() - started;
      if (seen++ >= warmup) {
        times.push(ms);
        if (batch.image.buffer === bytes.buffer) views += 1;
      }
      return batch.image.byteLength;
    },
    request,
    new Metadata(),
  );
  call.on('data', () => {});
  call.on('error', reject);
  call.on('end', () => resolve());
});
client.close();
await server.close();
await dataset.cleanup();
times.sort((a, b) => a - b);
const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
console.log(
  `decodeBatch, ${times.length} float32 batches of 8x16x96x96 (4.7 MB): median ${at(0.5).toFixed(3)} ms, mean ${mean.toFixed(3)} ms, p90 ${at(0.9).toFixed(3)} ms, max ${at(1).toFixed(3)} ms; image a view in ${views} of ${times.length}`,
);
