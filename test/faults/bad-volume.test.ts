import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  type Batch,
  SamplingOptions,
  SplitPart,
  type StreamBatchesRequest,
  type VoxelFeedClient,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import { buildCatalog } from '../../server/dataset/catalog/build-catalog.js';
import type { Catalog } from '../../server/dataset/catalog/catalog.js';
import type { RunningServer } from '../../server/main.js';
import { planWithoutSeries } from '../../server/sampling/plan-without-series.js';
import { resolveSamplingPolicy } from '../../server/sampling/sampling-policy.js';
import { eligibleSeries } from '../../server/sampling/series-split.js';
import { baseStreamRequest, collectStream, getSample, isStatus } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';
import { type LogLine, recordingLogger } from './recording-logger.js';

const SEED = 5n;
const EPOCH = 1;
const CROP = [8, 16, 16];
const SAMPLING = SamplingOptions.fromPartial({ samplesPerNodule: 2, negativesPerEpoch: 12 });
const SHAPE = [16, 32, 32] as const;
/** Two decoded volumes: every stream keeps reloading volumes, so a file damaged after start-up is read. */
const CACHE_BYTES = 2 * 2 * SHAPE[0] * SHAPE[1] * SHAPE[2];
/** Exact in float32 (the wire type), so the server splits the series as `eligibleSeries` does here. */
const FRACTIONS = [0.375, 0.5, 0.625];

/** The ways a volume file can go bad under a running server. */
const DAMAGES: Record<string, (file: string) => Promise<void>> = {
  deleted: (file) => rm(file),
  truncated: async (file) => truncate(file, Math.floor((await stat(file)).size / 2)),
  // Flipped bits in the middle of the gzip data: inflating fails or the gzip CRC check does.
  corrupted: async (file) => {
    const bytes = await readFile(file);
    const at = Math.floor(bytes.length * 0.6);
    for (let i = 0; i < 48; i++) bytes[at + i] = bytes[at + i]! ^ 0xa5;
    await writeFile(file, bytes);
  },
};

interface Damaged extends TestServer {
  readonly lines: LogLine[];
  readonly ends: string[];
}

function fingerprint(batch: Batch): string {
  const hash = createHash('sha256').update(batch.image).update(batch.mask).digest('hex').slice(0, 16);
  return `${batch.rank}/${batch.step} [${batch.samples.map((s) => s.index).join(',')}] ${hash}`;
}

function assertWholeEpoch(batches: readonly Batch[], label: string): void {
  assert.ok(batches.length > 0, label);
  const steps = Number(batches[0]!.stepsInEpoch);
  assert.deepEqual(
    batches.map((batch) => Number(batch.step)),
    Array.from({ length: steps }, (_, step) => step),
    label,
  );
}

describe('a volume file that goes bad while the server runs', () => {
  let pristine: TempDataset;
  let catalog: Catalog;
  let holdoutFraction = 0;
  let bad = -1;
  const scratch: string[] = [];

  before(async () => {
    pristine = await createPhantomDataset({ series: 8, shape: SHAPE, seed: 21n });
    catalog = await buildCatalog({ source: pristine.dir, strict: true });
    // A split whose holdout part has a series with nodules (the one to damage) and another series, so that
    // only holdout streams need the bad file and train streams never touch it.
    for (const fraction of FRACTIONS) {
      const holdout = eligibleSeries(catalog.series, { holdoutFraction: fraction, part: 'holdout' });
      const candidate = holdout.find((s) => catalog.series[s]!.nodules.length > 0);
      if (holdout.length >= 2 && holdout.length <= catalog.series.length - 2 && candidate !== undefined) {
        holdoutFraction = fraction;
        bad = candidate;
        break;
      }
    }
    assert.ok(bad >= 0, 'no usable split of the phantom data set');
  });

  after(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
    await pristine?.cleanup();
  });

  /** A server on a fresh copy of the data set whose bad series' image is damaged after indexing. */
  async function startDamaged(damage: string, replaceBadSeries: boolean): Promise<Damaged> {
    const root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-bad-volume-'));
    scratch.push(root);
    const dir = path.join(root, 'phantom');
    await cp(pristine.dir, dir, { recursive: true });
    const lines: LogLine[] = [];
    const ends: string[] = [];
    const server = await startTestServer({
      data: dir,
      cacheMaxBytes: CACHE_BYTES,
      strict: true,
      config: { datasetName: 'phantom', replaceBadSeries },
      logger: recordingLogger(lines),
      hooks: { observer: { onStreamEnd: (code) => ends.push(code) } },
    });
    await DAMAGES[damage]!(server.running.catalog.series[bad]!.imagePath);
    return { ...server, lines, ends };
  }

  function request(part: SplitPart, rank: number, worldSize: number): Partial<StreamBatchesRequest> {
    return {
      seed: SEED,
      epoch: EPOCH,
      rank,
      worldSize,
      batchSize: 3,
      cropSize: CROP,
      sampling: SAMPLING,
      includeMask: true,
      split: { holdoutFraction, part },
    };
  }

  /** One holdout stream (which needs the bad series) and two train ranks, all at once. */
  function streamAll(client: VoxelFeedClient) {
    const stream = (part: SplitPart, rank: number, worldSize: number) =>
      collectStream(client.streamBatches(baseStreamRequest(request(part, rank, worldSize))));
    return {
      holdout: stream(SplitPart.SPLIT_PART_HOLDOUT, 0, 1),
      train: Promise.all([
        stream(SplitPart.SPLIT_PART_TRAIN, 0, 2),
        stream(SplitPart.SPLIT_PART_TRAIN, 1, 2),
      ]),
    };
  }

  function holdoutPlan(running: RunningServer) {
    const dataset = running.registry.datasets.get('phantom')!;
    const policy = resolveSamplingPolicy(SAMPLING);
    return dataset.plans.get(policy, SEED, EPOCH, { holdoutFraction, part: 'holdout' });
  }

  for (const damage of Object.keys(DAMAGES)) {
    it(`ends the stream that needs a ${damage} file with DATA_LOSS naming it, marks the series bad and serves the others`, async () => {
      const server = await startDamaged(damage, false);
      try {
        const series = server.running.catalog.series[bad]!;
        const streams = streamAll(server.client);
        await assert.rejects(streams.holdout, isStatus(status.DATA_LOSS, series.uid, series.imagePath));
        const train = await streams.train;
        for (const [rank, batches] of train.entries()) assertWholeEpoch(batches, `train rank ${rank}`);
        for (const sample of train.flat().flatMap((batch) => batch.samples))
          assert.notEqual(sample.seriesUid, series.uid);
        assert.deepEqual([...server.ends].sort(), ['DATA_LOSS', 'OK', 'OK']);

        const marked = server.lines.filter((line) => line.message.startsWith('series marked bad'));
        assert.equal(marked.length, 1, JSON.stringify(server.lines.filter((l) => l.level !== 'debug')));
        assert.equal(marked[0]!.level, 'warn');
        assert.equal(marked[0]!.fields['uid'], series.uid);
        assert.match(await scrapeMetrics(server.running), /^voxelfeed_bad_series 1$/m);

        // Marked bad: even with the file restored, a request that needs it fails at once without reading it.
        await cp(path.join(pristine.dir, path.basename(series.imagePath)), series.imagePath);
        const cache = server.running.registry.datasets.get('phantom')!.cache;
        const loads = cache.loads;
        const plan = await holdoutPlan(server.running);
        const position = Array.from({ length: plan.size }, (_, p) => p).find(
          (p) => plan.items.seriesOf(plan.itemAt(p)) === bad,
        )!;
        const { dataset: _, ...sampleRequest } = baseStreamRequest(
          request(SplitPart.SPLIT_PART_HOLDOUT, 0, 1),
        );
        await assert.rejects(
          getSample(server.client, { ...sampleRequest, index: BigInt(position) }),
          isStatus(status.DATA_LOSS, series.uid),
        );
        assert.equal(cache.loads, loads, 'the bad series was not read again');
      } finally {
        await server.close();
      }
    });
  }

  it('with --replace-bad-series serves every step, replacing the bad series the same way on every replica', async () => {
    const first = await startDamaged('corrupted', true);
    const second = await startDamaged('truncated', true);
    try {
      const uid = first.running.catalog.series[bad]!.uid;
      const streams = streamAll(first.client);
      const holdout = await streams.holdout;
      const train = await streams.train;
      assertWholeEpoch(holdout, 'holdout');
      for (const [rank, batches] of train.entries()) assertWholeEpoch(batches, `train rank ${rank}`);
      assert.deepEqual(first.ends, ['OK', 'OK', 'OK']);

      const plan = await holdoutPlan(first.running);
      const expected = planWithoutSeries(plan, new Set([bad]));
      let replaced = 0;
      for (const sample of holdout.flatMap((batch) => batch.samples)) {
        const index = Number(sample.index);
        assert.notEqual(sample.seriesUid, uid, `sample ${index}`);
        assert.equal(Number(sample.item), expected.itemAt(index), `sample ${index}`);
        if (plan.items.seriesOf(plan.itemAt(index)) === bad) replaced++;
      }
      assert.ok(replaced > 0, 'some samples were planned from the bad series');

      const marked = first.lines.find((line) => line.message.startsWith('series marked bad'));
      assert.ok(marked?.message.includes('depend on which series are bad'), marked?.message);
      assert.match(await scrapeMetrics(first.running), /^voxelfeed_bad_series 1$/m);

      // The same bad set gives the same batches: again on the first server (which knows the series is bad
      // from the start) and on a second replica that finds its copy truncated in the middle of the stream.
      const again = await collectStream(
        first.client.streamBatches(baseStreamRequest(request(SplitPart.SPLIT_PART_HOLDOUT, 0, 1))),
      );
      const replica = await collectStream(
        second.client.streamBatches(baseStreamRequest(request(SplitPart.SPLIT_PART_HOLDOUT, 0, 1))),
      );
      assert.deepEqual(again.map(fingerprint), holdout.map(fingerprint));
      assert.deepEqual(replica.map(fingerprint), holdout.map(fingerprint));

      // GetSample at a replaced position serves the replacement too: the streamed sample's bytes.
      const streamed = holdout
        .flatMap((batch) => batch.samples.map((sample, slot) => ({ batch, sample, slot })))
        .find(({ sample }) => plan.items.seriesOf(plan.itemAt(Number(sample.index))) === bad)!;
      const { dataset: _, ...sampleRequest } = baseStreamRequest(request(SplitPart.SPLIT_PART_HOLDOUT, 0, 1));
      const alone = await getSample(first.client, { ...sampleRequest, index: streamed.sample.index });
      assert.equal(alone.samples[0]!.item, streamed.sample.item);
      const voxels = CROP.reduce((product, size) => product * size, 1);
      assert.deepEqual(
        Buffer.from(alone.image),
        Buffer.from(streamed.batch.image.subarray(streamed.slot * voxels, (streamed.slot + 1) * voxels)),
      );
    } finally {
      await first.close();
      await second.close();
    }
  });
});
