/**
 * Run inside a trainer host's namespace: `node --import tsx stream-rank.ts SERVER RANK WORLD BATCH Z,Y,X`.
 * Streams one epoch of that rank with the request `voxelfeed train --seed 0 --negatives 0 --validate-every 0`
 * sends (uint8, masks, no extra negatives, no split) and prints one JSON line: the steps, steps in the epoch, the plan size the server
 * reports, and every sample's plan position and item.
 */
import { createFeedClient } from '../../client/index.js';

const [server = '', rank = '0', world = '1', batch = '2', crop = ''] = process.argv.slice(2);
const [z = 0, y = 0, x = 0] = crop.split(',').map(Number);
const feed = createFeedClient({ address: server });
try {
  const info = await feed.datasetInfo();
  const samples: { index: number; item: number }[] = [];
  let steps = 0;
  let stepsInEpoch = 0;
  for await (const got of feed.streamBatches({
    seed: 0,
    epoch: 0,
    rank: Number(rank),
    worldSize: Number(world),
    batchSize: Number(batch),
    cropSize: [z, y, x],
    dtype: 'uint8',
    includeMask: true,
  })) {
    steps += 1;
    stepsInEpoch = got.stepsInEpoch;
    for (const sample of got.samples) samples.push({ index: sample.index, item: sample.item });
  }
  process.stdout.write(
    `${JSON.stringify({ steps, stepsInEpoch, itemsPerEpoch: info.defaultItemsPerEpoch, samples })}\n`,
  );
} finally {
  feed.close();
}
