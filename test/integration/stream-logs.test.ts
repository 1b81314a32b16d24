import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { pollUntil } from '../support/poll-until.js';
import { logLines, type ServerProcess, spawnServer } from '../support/spawn-server.js';
import { LARGE_MESSAGES } from '../support/test-server.js';

describe('server logs', () => {
  let dataset: TempDataset;
  let server: ServerProcess;
  let client: VoxelFeedClient;

  before(async () => {
    dataset = await createPhantomDataset({ series: 3, shape: [16, 32, 32] });
    server = await spawnServer(['--data', dataset.dir, '--log-level', 'debug']);
    client = new VoxelFeedClient(server.address, credentials.createInsecure(), LARGE_MESSAGES);
  });

  after(async () => {
    client?.close();
    await server?.stop();
    await dataset?.cleanup();
  });

  it('are JSON lines that carry a stream id, the peer and the request on every line of a stream, and why it ended', async () => {
    await streamAll(client, { seed: 42n, epoch: 3, batchSize: 2, cropSize: [8, 16, 16], maxSteps: 2n });
    await assert.rejects(streamAll(client, { seed: 43n, batchSize: 0, cropSize: [8, 16, 16] }));
    const lines = await pollUntil(
      async () => {
        const all = logLines(server);
        const ends = all.filter((line) => String(line['msg']).startsWith('stream ended'));
        return ends.length >= 2 ? all : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, describe: () => `two stream ends in:\n${server.stderr()}` },
    );
    const streamLines = lines.filter((line) => typeof line['stream'] === 'string');
    const ids = [...new Set(streamLines.map((line) => line['stream']))];
    assert.equal(ids.length, 2, 'two streams, two ids');
    for (const line of streamLines) {
      assert.match(String(line['peer']), /127\.0\.0\.1/);
      assert.ok(
        'seed' in line && 'epoch' in line && 'rank' in line && 'batchSize' in line,
        JSON.stringify(line),
      );
    }
    const ended = streamLines.filter((line) => String(line['msg']).startsWith('stream ended'));
    const ok = ended.find((line) => line['code'] === 'OK');
    const refused = ended.find((line) => line['code'] === 'INVALID_ARGUMENT');
    assert.ok(ok && refused, JSON.stringify(ended));
    assert.equal(ok['seed'], '42');
    assert.equal(ok['batches'], 2);
    assert.match(String(refused['reason']), /batch_size is 0/);
    assert.ok(ended.every((line) => ids.includes(line['stream'])));
  });
});
