import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { type ClientReadableStream, status } from '@grpc/grpc-js';
import { type Batch, SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { baseStreamRequest, collectStream, getSample } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** The largest epoch the server accepts: a million negatives and 1000 samples of every nodule. */
const HUGE = SamplingOptions.fromPartial({ samplesPerNodule: 1000, negativesPerEpoch: 1_000_000 });

/** How long the reader is watched alone, before the huge plans are asked for. */
const CONTROL_MS = 1500;

/**
 * A stream that reads batches as fast as the server sends them and records, per phase, the longest wait
 * between two batches. The epoch (50,000 steps) outlasts the test; the stream is cancelled at the end.
 */
class Reader {
  private readonly stream: ClientReadableStream<Batch>;
  private last = 0;
  private longest = 0;
  batches = 0;
  failed: Error | null = null;

  constructor(server: TestServer) {
    this.stream = server.client.streamBatches(
      baseStreamRequest({
        seed: 3n,
        batchSize: 4,
        cropSize: [8, 16, 16],
        sampling: SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 200_000 }),
      }),
    );
    this.stream.on('data', () => {
      const now = performance.now();
      if (this.last > 0) this.longest = Math.max(this.longest, now - this.last);
      this.last = now;
      this.batches += 1;
    });
    this.stream.on('error', (error: Error & { code?: number }) => {
      if (error.code !== status.CANCELLED) this.failed = error;
    });
  }

  /** Resolves once `count` batches have come. */
  async started(count: number, limitMs: number): Promise<void> {
    const deadline = performance.now() + limitMs;
    while (this.batches < count) {
      assert.ok(performance.now() < deadline, `the reader got ${this.batches} batches in ${limitMs} ms`);
      assert.equal(this.failed, null);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The longest gap since the last call (or since the stream started), in ms, and the batches in that time. */
  phase(): { longestGapMs: number; batches: number } {
    const result = { longestGapMs: this.longest, batches: this.batches };
    this.longest = 0;
    this.batches = 0;
    return result;
  }

  cancel(): void {
    this.stream.cancel();
  }
}

describe('huge epoch plans', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 12n });
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('keep a concurrent stream flowing while several are built', { timeout: 180_000 }, async (t) => {
    const reader = new Reader(server);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    try {
      await reader.started(20, 60_000);
      reader.phase();
      loop.enable();
      await new Promise((resolve) => setTimeout(resolve, CONTROL_MS));
      const control = reader.phase();
      const controlLoopMs = loop.max / 1e6;
      loop.reset();

      // Three streams and a GetSample, each on a new seed: four plans of a million items to build.
      const plans = server.running.registry.datasets.get('phantom')!.plans;
      const builtBefore = plans.buildCount;
      const started = performance.now();
      const huge = await Promise.all([
        ...[101n, 102n, 103n].map((seed) =>
          collectStream(
            server.client.streamBatches(
              baseStreamRequest({ seed, batchSize: 4, maxSteps: 1n, sampling: HUGE }),
            ),
          ),
        ),
        getSample(server.client, { seed: 104n, index: 999_999n, sampling: HUGE }),
      ]);
      const stormMs = performance.now() - started;
      const storm = reader.phase();
      const stormLoopMs = loop.max / 1e6;
      assert.equal(reader.failed, null);

      // The plans were really built, and each is a million items long.
      assert.equal(plans.buildCount - builtBefore, 4);
      for (const batches of huge.slice(0, 3) as Batch[][]) {
        assert.equal(batches.length, 1);
        assert.ok(batches[0]!.stepsInEpoch * 4n > 1_000_000n, `${batches[0]!.stepsInEpoch} steps of 4`);
      }
      assert.equal((huge[3] as Batch).samples[0]!.index, 999_999n);

      const limitMs = Math.max(300, 4 * control.longestGapMs);
      const report =
        `reader alone: longest gap ${control.longestGapMs.toFixed(0)} ms over ${control.batches} batches, ` +
        `event loop ${controlLoopMs.toFixed(0)} ms; with 4 plans building (${stormMs.toFixed(0)} ms): ` +
        `longest gap ${storm.longestGapMs.toFixed(0)} ms over ${storm.batches} batches, ` +
        `event loop ${stormLoopMs.toFixed(0)} ms; limit ${limitMs.toFixed(0)} ms`;
      t.diagnostic(report);
      assert.ok(storm.batches > 0, report);
      assert.ok(storm.longestGapMs < limitMs, report);
    } finally {
      loop.disable();
      reader.cancel();
    }
  });
});
