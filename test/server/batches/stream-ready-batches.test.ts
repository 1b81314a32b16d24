import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Batch, SamplingOptions } from '../../../gen/voxelfeed/v1/voxelfeed.js';
import { assembleBatch } from '../../../server/batches/assemble-batch.js';
import { BatchMemory } from '../../../server/batches/batch-memory.js';
import {
  MAX_STEP_STRIDE,
  resolveStreamRequest,
  type StreamRequest,
} from '../../../server/batches/crop-request.js';
import { PlanCache } from '../../../server/batches/plan-cache.js';
import type { DatasetRegistry, ServedDataset } from '../../../server/batches/served-dataset.js';
import type { BatchSent } from '../../../server/batches/stream-observer.js';
import {
  type ReadyBatch,
  type ReadyBatchesDeps,
  streamReadyBatches,
} from '../../../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../../../server/cache/volume-cache.js';
import { buildCatalog } from '../../../server/dataset/catalog/build-catalog.js';
import type { Catalog } from '../../../server/dataset/catalog/catalog.js';
import {
  isPermanentLoadFailure,
  loadCatalogVolume,
} from '../../../server/dataset/loading/load-catalog-volume.js';
import { isVoxelfeedError, VoxelfeedError } from '../../../server/errors.js';
import { silentLogger } from '../../../server/log/logger.js';
import { planPosition, stepsInEpoch } from '../../../server/sampling/epoch-steps.js';
import { DEFAULT_SERVICE_LIMITS } from '../../../server/service/service-limits.js';
import { allBuffersBack } from '../../support/all-buffers-back.js';
import { baseStreamRequest } from '../../support/grpc-calls.js';
import { heldBatchesRecorder } from '../../support/held-batches-recorder.js';
import { createPhantomDataset, type TempDataset } from '../../support/phantom-dataset.js';
import { pollUntil } from '../../support/poll-until.js';

/** 40 negatives and the nodules in batches of 4: a dozen steps or so, every series drawn from. */
const SAMPLING = SamplingOptions.fromPartial({ samplesPerNodule: 1, negativesPerEpoch: 40 });

/** A data set served in this process as the server serves it, optionally with one series that cannot be read. */
function servedDataset(catalog: Catalog, options: { bad?: number; replaceBadSeries?: boolean } = {}) {
  const cache = new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    load: (index) =>
      index === options.bad
        ? Promise.reject(new VoxelfeedError('DATA_LOSS', `series ${catalog.series[index]!.uid} is damaged`))
        : loadCatalogVolume(catalog.series[index]!),
    isPermanentFailure: isPermanentLoadFailure,
  });
  const dataset: ServedDataset = {
    catalog,
    cache,
    plans: new PlanCache(catalog.series),
    ...(options.replaceBadSeries === undefined ? {} : { replaceBadSeries: options.replaceBadSeries }),
  };
  return dataset;
}

function streamRequest(dataset: ServedDataset, wire: Parameters<typeof baseStreamRequest>[0] = {}) {
  const registry: DatasetRegistry = { defaultName: 'd', datasets: new Map([['d', dataset]]) };
  return resolveStreamRequest(
    baseStreamRequest({ sampling: SAMPLING, ...wire }),
    registry,
    DEFAULT_SERVICE_LIMITS,
  );
}

/** Batch memory that counts the buffers it has handed out: a batch that has one is past its wait for memory. */
class CountingMemory extends BatchMemory {
  handedOut = 0;
  override async acquire(bytes: number, signal?: AbortSignal, urgent?: boolean): Promise<Buffer> {
    const buffer = await super.acquire(bytes, signal, urgent);
    this.handedOut += 1;
    return buffer;
  }
}

interface Recorded {
  readonly memory: CountingMemory;
  readonly deps: ReadyBatchesDeps;
  /** Batches held after each change, in order. */
  readonly held: number[];
  readonly sent: BatchSent[];
}

function recordedDeps(prefetchBatches: number): Recorded {
  const memory = new CountingMemory({ budgetBytes: 64 * 1024 * 1024, idleReleaseMs: 0 });
  const { observer, held, sent } = heldBatchesRecorder('test');
  return {
    memory,
    held,
    sent,
    deps: { prefetchBatches, batchMemory: memory, log: silentLogger, streamId: 'test', observer },
  };
}

/** Every batch of the stream, decoded, each released as soon as it is read. */
async function readAll(
  request: StreamRequest,
  deps: ReadyBatchesDeps,
  signal = new AbortController().signal,
) {
  const batches: { bytes: Buffer; decoded: Batch }[] = [];
  for await (const ready of streamReadyBatches(request, signal, deps)) {
    const bytes = Buffer.from(ready.batch.bytes);
    batches.push({ bytes, decoded: Batch.decode(bytes) });
    ready.release();
  }
  return batches;
}

describe('streamReadyBatches', { timeout: 60_000 }, () => {
  let data: TempDataset;
  let catalog: Catalog;

  before(async () => {
    data = await createPhantomDataset({ series: 4, shape: [16, 32, 32], seed: 31n });
    catalog = await buildCatalog({ source: data.dir });
  });

  after(() => data.cleanup());

  it('yields every step of the epoch once, in order, with the rank header and one sample per slot', async () => {
    const dataset = servedDataset(catalog);
    const request = streamRequest(dataset, { worldSize: 2, rank: 1 });
    const recorded = recordedDeps(2);
    const batches = await readAll(request, recorded.deps);
    const steps = Number(batches[0]!.decoded.stepsInEpoch);
    assert.ok(steps >= 5, `steps ${steps}`);
    assert.deepEqual(
      batches.map(({ decoded }) => Number(decoded.step)),
      Array.from({ length: steps }, (_, step) => step),
    );
    for (const { decoded } of batches) {
      assert.equal(decoded.rank, 1);
      assert.equal(decoded.worldSize, 2);
      assert.equal(decoded.samples.length, 4);
      assert.equal(decoded.image.length, 4 * 8 * 16 * 16);
    }
    // Rank 1 of 2 takes the second slice of every global step.
    assert.deepEqual(
      batches[0]!.decoded.samples.map((sample) => Number(sample.index)),
      [4, 5, 6, 7],
    );
    assert.equal(recorded.sent.length, steps);
    assert.ok(recorded.sent.every((sent) => sent.samples === 4 && sent.bytes > 4 * 8 * 16 * 16));
    await allBuffersBack(recorded.memory);
    assert.equal(recorded.held.at(-1), 0);
  });

  it("yields at each step the batch that step's plan positions assemble to, rank groups included", async () => {
    const dataset = servedDataset(catalog);
    const request = streamRequest(dataset, { worldSize: 3, rank: 2, rankGroups: 2, batchSize: 2 });
    const batches = await readAll(request, recordedDeps(1).deps);
    const plan = await dataset.plans.get(request.policy, request.seed, request.epoch, request.split);
    const steps = stepsInEpoch(plan.size, 3, 2);
    assert.equal(batches.length, steps);
    const layout = { worldSize: 3, batchSize: 2, grouping: { rankGroups: 2, stepsInEpoch: steps } };
    for (const [step, { bytes }] of batches.entries()) {
      const positions = [0, 1].map((slot) => planPosition(layout, step, 2, slot));
      const header = { step, stepsInEpoch: steps, rank: 2, worldSize: 3 };
      const { batch } = await assembleBatch({ request, plan }, positions, header);
      assert.deepEqual(bytes, Buffer.from(batch.bytes), `step ${step}`);
    }
  });

  it('gives the same bytes whatever the prefetch, and resumes at start_step with the tail', async () => {
    const whole = await readAll(streamRequest(servedDataset(catalog)), recordedDeps(0).deps);
    const prefetched = await readAll(streamRequest(servedDataset(catalog)), recordedDeps(3).deps);
    assert.deepEqual(
      prefetched.map(({ bytes }) => bytes),
      whole.map(({ bytes }) => bytes),
    );
    const tail = await readAll(
      streamRequest(servedDataset(catalog), { startStep: 2n, maxSteps: 3n }),
      recordedDeps(1).deps,
    );
    assert.deepEqual(
      tail.map(({ bytes }) => bytes),
      whole.slice(2, 5).map(({ bytes }) => bytes),
    );
  });

  it('with step_stride n sends every n-th step from start_step, each the batch of that step', async () => {
    const whole = await readAll(streamRequest(servedDataset(catalog)), recordedDeps(0).deps);
    assert.ok(whole.length >= 7, `the epoch has ${whole.length} steps`);
    for (const [start, stride] of [
      [0, 2],
      [1, 2],
      [2, 3],
    ] as const) {
      const strided = await readAll(
        streamRequest(servedDataset(catalog), { startStep: BigInt(start), stepStride: stride }),
        recordedDeps(2).deps,
      );
      const expected = whole.filter((_, step) => step >= start && (step - start) % stride === 0);
      assert.deepEqual(
        strided.map(({ decoded }) => Number(decoded.step)),
        expected.map(({ decoded }) => Number(decoded.step)),
      );
      assert.deepEqual(
        strided.map(({ bytes }) => bytes),
        expected.map(({ bytes }) => bytes),
        `start ${start}, stride ${stride}`,
      );
    }
    // max_steps counts batches sent, not steps passed.
    const two = await readAll(
      streamRequest(servedDataset(catalog), { startStep: 1n, stepStride: 3, maxSteps: 2n }),
      recordedDeps(1).deps,
    );
    assert.deepEqual(
      two.map(({ decoded }) => Number(decoded.step)),
      [1, 4],
    );
  });

  it('refuses a step_stride above the limit, naming it', () => {
    assert.throws(
      () => streamRequest(servedDataset(catalog), { stepStride: MAX_STEP_STRIDE + 1 }),
      (error: Error) =>
        error.message.includes(`step_stride is ${MAX_STEP_STRIDE + 1}; use 1..${MAX_STEP_STRIDE}`),
    );
  });

  for (const prefetch of [0, 1, 3]) {
    it(`prepares at most ${prefetch} batches ahead of the one the consumer holds`, async () => {
      const recorded = recordedDeps(prefetch);
      const batches = streamReadyBatches(
        streamRequest(servedDataset(catalog)),
        new AbortController().signal,
        {
          ...recorded.deps,
        },
      );
      const first = await batches.next();
      assert.equal(first.done, false);
      // The consumer holds one; `prefetch` more are being prepared, and nothing else starts until it asks.
      assert.equal(Math.max(...recorded.held), 1 + prefetch);
      await buffersHandedOut(recorded.memory, 1 + prefetch);
      assert.equal(Math.max(...recorded.held), 1 + prefetch);
      assert.equal(recorded.memory.handedOut, 1 + prefetch);
      // A consumer that releases each batch before asking for the next never holds more.
      (first.value as ReadyBatch).release();
      for (let read = 0; read < 4; read++) {
        const next = await batches.next();
        assert.equal(next.done, false);
        (next.value as ReadyBatch).release();
      }
      assert.equal(Math.max(...recorded.held), 1 + prefetch);
      await batches.return();
      await allBuffersBack(recorded.memory);
    });
  }

  it('stops on abort: the wait for the next batch rejects with the reason and every buffer goes back', async () => {
    const recorded = recordedDeps(2);
    const abort = new AbortController();
    const batches = streamReadyBatches(streamRequest(servedDataset(catalog)), abort.signal, recorded.deps);
    const first = await batches.next();
    (first.value as ReadyBatch).release();
    const reason = new VoxelfeedError('UNAVAILABLE', 'the client cancelled the stream');
    abort.abort(reason);
    await assert.rejects(batches.next(), (error) => error === reason);
    assert.deepEqual(await batches.next(), { done: true, value: undefined });
    await allBuffersBack(recorded.memory);
  });

  it('rejects with the reason before any work when the signal has already aborted', async () => {
    const dataset = servedDataset(catalog);
    const abort = new AbortController();
    const reason = new Error('shutting down');
    abort.abort(reason);
    const batches = streamReadyBatches(streamRequest(dataset), abort.signal, recordedDeps(2).deps);
    await assert.rejects(batches.next(), (error) => error === reason);
    assert.equal(dataset.cache.loads, 0);
  });

  it('hands prepared-ahead buffers back when the consumer stops early', async () => {
    const recorded = recordedDeps(3);
    for await (const ready of streamReadyBatches(
      streamRequest(servedDataset(catalog)),
      new AbortController().signal,
      recorded.deps,
    )) {
      ready.release();
      break;
    }
    await allBuffersBack(recorded.memory);
  });

  it('refuses a start_step past the epoch with OUT_OF_RANGE naming the steps', async () => {
    const batches = streamReadyBatches(
      streamRequest(servedDataset(catalog), { startStep: 1000n }),
      new AbortController().signal,
      recordedDeps(2).deps,
    );
    await assert.rejects(
      batches.next(),
      (error) =>
        isVoxelfeedError(error) &&
        error.code === 'OUT_OF_RANGE' &&
        /start_step is 1000 but epoch 0 has \d+ steps/.test(error.message),
    );
  });

  it('ends with DATA_LOSS at the first batch that needs an unreadable series', async () => {
    const bad = 2;
    const recorded = recordedDeps(2);
    const dataset = servedDataset(catalog, { bad });
    const seen: number[] = [];
    await assert.rejects(
      (async () => {
        for await (const ready of streamReadyBatches(
          streamRequest(dataset),
          new AbortController().signal,
          recorded.deps,
        )) {
          seen.push(ready.step);
          ready.release();
        }
      })(),
      (error) =>
        isVoxelfeedError(error) &&
        error.code === 'DATA_LOSS' &&
        error.message.includes(catalog.series[bad]!.uid),
    );
    assert.deepEqual([...dataset.cache.failedKeys], [bad]);
    await allBuffersBack(recorded.memory);
    // The batches before the failing one came in order from step 0.
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, step) => step),
    );
  });

  it('serves the whole epoch around an unreadable series when the data set replaces bad series', async () => {
    const bad = 2;
    const recorded = recordedDeps(2);
    const dataset = servedDataset(catalog, { bad, replaceBadSeries: true });
    const batches = await readAll(streamRequest(dataset), recorded.deps);
    const steps = Number(batches[0]!.decoded.stepsInEpoch);
    assert.deepEqual(
      batches.map(({ decoded }) => Number(decoded.step)),
      Array.from({ length: steps }, (_, step) => step),
    );
    const uids = new Set(batches.flatMap(({ decoded }) => decoded.samples.map((sample) => sample.seriesUid)));
    assert.ok(!uids.has(catalog.series[bad]!.uid), [...uids].join());
    assert.equal(uids.size, catalog.series.length - 1);
    assert.deepEqual([...dataset.cache.failedKeys], [bad]);
    await allBuffersBack(recorded.memory);
  });
});

/** Resolves once batch memory has handed out `count` buffers. */
function buffersHandedOut(memory: CountingMemory, count: number): Promise<true> {
  return pollUntil(async () => (memory.handedOut >= count ? true : undefined), {
    timeoutMs: 10_000,
    intervalMs: 10,
    describe: () => `${count} buffers handed out; so far ${memory.handedOut}`,
  });
}
