import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { RetryEvent } from '../../client/batch-stream.js';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import { queueDepthWatcher } from '../support/deferred.js';
import { batchFingerprint, referenceFingerprints } from '../support/feed-batch-reference.js';
import { exactEpochRequest } from '../support/feed-requests.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const STEPS = 24;

describe('a stream whose server shuts down while the client is not reading', () => {
  let dataset: TempDataset;
  let stopping: TestServer;
  let staying: TestServer;
  let request: StreamBatchesInput;
  let stayingSent = 0;

  before(async () => {
    dataset = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 31n });
    request = exactEpochRequest(dataset, { steps: STEPS, batchSize: 2, seed: 3 });
    // No shutdown grace: the server ends its open streams at once, while their statuses still wait behind
    // batches the paused client has not read, so what reaches the client is the transport's CANCELLED.
    stopping = await startTestServer({ data: dataset.dir });
    staying = await startTestServer({
      data: dataset.dir,
      hooks: { observer: { onBatch: () => stayingSent++ } },
    });
  });

  after(async () => {
    await staying?.close();
    await dataset?.cleanup();
  });

  it('resumes on another replica at the next step, with nothing lost or repeated', {
    timeout: 60_000,
  }, async () => {
    const expected = await referenceFingerprints(staying.address, request);
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
    const queue = queueDepthWatcher(1);
    const options = { onRetry: (event: RetryEvent) => retries.push(event), onQueueDepth: queue.onQueueDepth };
    try {
      for await (const batch of client.streamBatches(request, options)) {
        seen.push(batchFingerprint(batch));
        if (seen.length === 2) {
          // The queue is full (prefetch 1: wait for it) when the stream is cut: the client must not open its next call
          // before the consumer takes a batch, since grpc-js cannot pause a call before its first message
          // and would read the rest of the epoch into memory.
          await queue.full();
          const before = stayingSent;
          await stopping.close();
          await delay(500);
          assert.equal(stayingSent, before, 'no batch was sent to the client while its queue was full');
        }
      }
    } finally {
      client.close();
    }
    assert.deepEqual(seen, expected);
    assert.ok(retries.length > 0, 'the stream on the stopped server was cut');
    for (const retry of retries) assert.ok(['UNAVAILABLE', 'CANCELLED'].includes(retry.error.code));
  });
});
