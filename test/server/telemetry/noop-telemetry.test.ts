import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NOOP_TELEMETRY } from '../../../server/telemetry/noop-telemetry.js';
import { getDatasetInfo, streamAll } from '../../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

describe('NOOP_TELEMETRY', () => {
  it('takes every report and keeps nothing', () => {
    const method = { grpc_type: 'unary', grpc_service: 's', grpc_method: 'm' };
    NOOP_TELEMETRY.calls.started(method);
    NOOP_TELEMETRY.calls.received(method);
    NOOP_TELEMETRY.calls.sent(method);
    NOOP_TELEMETRY.calls.handled(method, 'OK', 1);
    NOOP_TELEMETRY.cache.onOutcome('hit');
    NOOP_TELEMETRY.cache.onEvict();
    NOOP_TELEMETRY.cache.onOversize();
    NOOP_TELEMETRY.volumeLoaded({ readMs: 1, decodeMs: 2 });
    // Watching twice is no mistake for telemetry that reads nothing.
    for (let i = 0; i < 2; i++) {
      NOOP_TELEMETRY.watch({
        cache: { bytesHeld: 0, maxBytes: 1, loadsRunning: 0, loadsQueued: 0, failedKeys: new Set() },
        boxMasks: { checkedSeries: 0, mismatchedSeries: 0 },
        batchMemory: { stats: () => assert.fail('read by telemetry that reports nothing') },
        trainers: { current: () => assert.fail('read by telemetry that reports nothing') },
      });
    }
    assert.ok(Object.isFrozen(NOOP_TELEMETRY) && Object.isFrozen(NOOP_TELEMETRY.calls));
  });

  it('observes no stream, so the stream handler builds no report per batch', () => {
    assert.deepEqual(Object.keys(NOOP_TELEMETRY.streams), []);
  });
});

describe('a server without --metrics-port', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 2, shape: [16, 24, 24], seed: 4n });
    server = await startTestServer({ data: dataset.dir, config: { metricsPort: null } });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('serves calls and streams, and has no /metrics port', async () => {
    assert.equal(server.running.metricsPort, null);
    assert.equal((await getDatasetInfo(server.client)).series, 2);
    const batches = await streamAll(server.client, { batchSize: 2, cropSize: [8, 16, 16], maxSteps: 2n });
    assert.equal(batches.length, 2);
  });
});
