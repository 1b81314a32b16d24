import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Batch, SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { baseStreamRequest, collectStream } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** A million-item plan in windows of 4 series: seconds of stepped building on this machine. */
const HUGE_WINDOWED = SamplingOptions.fromPartial({
  samplesPerNodule: 1000,
  negativesPerEpoch: 1_000_000,
  shuffleWindow: 4,
});

describe('a stream waiting for its epoch plan', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 21n });
    server = await startTestServer({
      data: dataset.dir,
      config: { limits: { ...DEFAULT_SERVICE_LIMITS, maxStreamsPerPeer: 1 } },
    });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  /** The plan cache of the one data set served. */
  const plans = () => {
    const registry = server.running.registry;
    return registry.datasets.get(registry.defaultName)!.plans;
  };

  it('gives its admission slot back as soon as it is cancelled, not when the plan is built', async () => {
    const waiting = server.client.streamBatches(
      baseStreamRequest({ seed: 901n, batchSize: 2, cropSize: [8, 16, 16], sampling: HUGE_WINDOWED }),
    );
    const ended = new Promise<void>((resolve) => {
      waiting.on('error', () => resolve());
      waiting.on('end', () => resolve());
    });
    waiting.on('data', () => {});
    // Long enough for the call to be admitted and waiting on the build, far shorter than the build.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const buildsBefore = plans().buildCount;
    waiting.cancel();
    await ended;
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The per-peer limit is 1: this stream is refused with RESOURCE_EXHAUSTED while the cancelled one holds it.
    const batches: Batch[] = await collectStream(
      server.client.streamBatches(
        baseStreamRequest({ seed: 5n, batchSize: 2, cropSize: [8, 16, 16], maxSteps: 2n }),
      ),
    );
    assert.equal(batches.length, 2);
    // Only the second stream's small plan was built meanwhile: the huge one was still being built when the
    // second stream ran (else this test would prove nothing).
    assert.equal(plans().buildCount, (buildsBefore ?? 0) + 1);
  });
});
