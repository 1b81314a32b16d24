import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { VoxelFeedClient } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { type ServerProcess, spawnServer } from '../support/spawn-server.js';
import { LARGE_MESSAGES } from '../support/test-server.js';

type LogLine = Record<string, unknown>;

/** The server's JSON log lines, once `predicate` holds for them (polled, bounded). */
async function logLines(server: ServerProcess, predicate: (lines: LogLine[]) => boolean): Promise<LogLine[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const lines = server
      .stderr()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
    if (predicate(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`log lines never matched:\n${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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
    const lines = await logLines(
      server,
      (all) => all.filter((line) => String(line['msg']).startsWith('stream ended')).length >= 2,
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
