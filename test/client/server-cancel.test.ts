import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RetryEvent } from '../../client/batch-stream.js';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { batchFingerprint } from '../support/feed-batch-reference.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const STEPS = 24;

describe('a stream whose server shuts down while the client is not reading', () => {
  let dataset: TempDataset;
  let stopping: TestServer;
  let staying: TestServer;
  let request: StreamBatchesInput;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 31n });
    request = {
      seed: 3,
      batchSize: 2,
      cropSize: [16, 32, 32],
      dtype: 'float32',
      includeMask: true,
      sampling: { samplesPerNodule: 1, negativesPerEpoch: 2 * STEPS - dataset.nodules },
    };
    // No shutdown grace: the server ends its open streams at once, while their statuses still wait behind
    // batches the paused client has not read, so what reaches the client is the transport's CANCELLED.
    stopping = await startTestServer({ data: dataset.dir });
    staying = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await staying?.close();
    await dataset?.cleanup();
  });

  it('resumes on another replica at the next step, with nothing lost or repeated', {
    timeout: 60_000,
  }, async () => {
    const reference = createFeedClient({ address: staying.address });
    const expected: string[] = [];
    try {
      for await (const batch of reference.streamBatches(request)) expected.push(batchFingerprint(batch));
    } finally {
      reference.close();
    }
    assert.equal(expected.length, STEPS);

    const retries: RetryEvent[] = [];
    const client = createFeedClient({
      addresses: [stopping.address, staying.address],
      rankAffinity: true,
      prefetch: 1,
      reconnect: { initialBackoffMs: 10, maxBackoffMs: 100, maxAttempts: 20 },
      channelOptions: { 'grpc-node.flow_control_window': 65_535 },
    });
    const seen: string[] = [];
    try {
      for await (const batch of client.streamBatches(request, { onRetry: (event) => retries.push(event) })) {
        seen.push(batchFingerprint(batch));
        if (seen.length === 2) await stopping.close();
      }
    } finally {
      client.close();
    }
    assert.deepEqual(seen, expected);
    assert.ok(retries.length > 0, 'the stream on the stopped server was cut');
    for (const retry of retries) assert.ok(['UNAVAILABLE', 'CANCELLED'].includes(retry.error.code));
  });
});
