import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import {
  type Batch,
  CropMode,
  DType,
  SamplingOptions,
  SplitPart,
  VoxelFeedClient,
} from '../../gen/voxelfeed/v1/voxelfeed.js';
import { getDatasetInfo, getSample, sampleSlice, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { spawnServer } from '../support/spawn-server.js';
import { LARGE_MESSAGES, startTestServer, type TestServer } from '../support/test-server.js';

const CROP = [8, 16, 16];

/** Every sample of a list of batches, keyed by its global index, with its image and mask bytes. */
function samplesByIndex(batches: readonly Batch[]) {
  const byIndex = new Map<
    bigint,
    { series: string; nodule: number; image: Buffer; mask: Buffer; origin: number[] }
  >();
  for (const batch of batches) {
    batch.samples.forEach((info, slot) => {
      byIndex.set(info.index, {
        series: info.seriesUid,
        nodule: info.nodule,
        image: sampleSlice(batch, 'image', slot),
        mask: sampleSlice(batch, 'mask', slot),
        origin: info.origin,
      });
    });
  }
  return byIndex;
}

describe('StreamBatches on a real server', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let nodules: number;

  before(async () => {
    dataset = await createPhantomDataset({ series: 8, shape: [24, 48, 48], seed: 7n });
    server = await startTestServer({ data: dataset.dir });
    nodules = (await getDatasetInfo(server.client)).nodules;
    assert.ok(nodules >= 4, `the fixture needs a few nodules, has ${nodules}`);
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  it('streams every step of the epoch with the requested shape, dtype and sample info', async () => {
    const batches = await streamAll(server.client, { batchSize: 3, cropSize: CROP });
    const steps = Math.ceil(nodules / 3);
    assert.equal(batches.length, steps);
    batches.forEach((batch, step) => {
      assert.equal(Number(batch.step), step);
      assert.equal(Number(batch.stepsInEpoch), steps);
      assert.deepEqual(batch.shape, [3, ...CROP]);
      assert.equal(batch.dtype, DType.DTYPE_UINT8);
      assert.equal(batch.image.length, 3 * 8 * 16 * 16);
      assert.equal(batch.mask.length, 3 * 8 * 16 * 16);
      assert.ok(batch.mask.every((value) => value === 0 || value === 1));
      for (const info of batch.samples) {
        assert.equal(info.origin.length, 3);
        assert.ok(
          [CropMode.CROP_MODE_JITTER, CropMode.CROP_MODE_NEGATIVE, CropMode.CROP_MODE_CENTER].includes(
            info.mode,
          ),
        );
        assert.ok(info.seriesUid.length > 0);
      }
    });
  });

  it('returns byte-identical batches for the same request, here and from another process with a tiny cache', async () => {
    const request = { seed: 99n, epoch: 3, batchSize: 4, cropSize: CROP };
    const first = await streamAll(server.client, request);
    const second = await streamAll(server.client, request);
    assert.deepEqual(second, first);
    // 150 KiB holds one decoded 24x48x48 series (image + mask = 110,592 bytes): almost every batch misses.
    const other = await spawnServer([
      '--data',
      dataset.dir,
      '--cache-bytes',
      '150KiB',
      '--log-level',
      'warn',
    ]);
    const client = new VoxelFeedClient(other.address, credentials.createInsecure(), LARGE_MESSAGES);
    try {
      const third = await streamAll(client, request);
      assert.deepEqual(third, first);
    } finally {
      client.close();
      assert.equal(await other.stop(), 0);
    }
  });

  it('gives the same samples at every step for world sizes 1, 2 and 4 with the same global batch', async () => {
    const perWorld = new Map<number, Map<bigint, Buffer>[]>();
    for (const [worldSize, batchSize] of [
      [1, 8],
      [2, 4],
      [4, 2],
    ] as const) {
      const ranks = await Promise.all(
        Array.from({ length: worldSize }, (_, rank) =>
          streamAll(server.client, { seed: 5n, rank, worldSize, batchSize, cropSize: CROP }),
        ),
      );
      const steps = ranks[0]!.length;
      for (const batches of ranks)
        assert.equal(batches.length, steps, 'every rank gets the same number of steps');
      const unionPerStep = Array.from({ length: steps }, (_, step) => {
        const union = new Map<bigint, Buffer>();
        for (const batches of ranks) {
          for (const [index, sample] of samplesByIndex([batches[step]!])) union.set(index, sample.image);
        }
        return union;
      });
      perWorld.set(worldSize, unionPerStep);
    }
    const reference = perWorld.get(1)!;
    for (const worldSize of [2, 4])
      assert.deepEqual(perWorld.get(worldSize), reference, `world size ${worldSize}`);
  });

  it('delivers every nodule exactly samples_per_nodule times per epoch across ranks', async () => {
    const samplesPerNodule = 3;
    const ranks = await Promise.all(
      [0, 1].map((rank) =>
        streamAll(server.client, {
          seed: 11n,
          rank,
          worldSize: 2,
          batchSize: 5,
          cropSize: CROP,
          sampling: SamplingOptions.fromPartial({
            jitterProb: 0,
            negativeProb: 0,
            centerProb: 0,
            samplesPerNodule,
            negativesPerEpoch: 0,
            padValue: 0,
            shuffleWindow: 0,
          }),
        }),
      ),
    );
    const planSize = nodules * samplesPerNodule;
    const counts = new Map<string, number>();
    let wrapped = 0;
    for (const batches of ranks) {
      for (const [index, sample] of samplesByIndex(batches)) {
        if (index >= BigInt(planSize)) {
          wrapped += 1;
          continue;
        }
        const key = `${sample.series}#${sample.nodule}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    assert.equal(counts.size, nodules);
    for (const [key, count] of counts) assert.equal(count, samplesPerNodule, key);
    assert.equal(wrapped, Math.ceil(planSize / 10) * 10 - planSize);
  });

  it('resumes at step k with exactly the tail of the full stream, and stops after max_steps', async () => {
    const request = { seed: 3n, batchSize: 2, cropSize: CROP };
    const full = await streamAll(server.client, request);
    assert.ok(full.length >= 3);
    const tail = await streamAll(server.client, { ...request, startStep: 2n });
    assert.deepEqual(tail, full.slice(2));
    const middle = await streamAll(server.client, { ...request, startStep: 1n, maxSteps: 1n });
    assert.deepEqual(middle, full.slice(1, 2));
  });

  it('answers GetSample with the same bytes as that sample in a stream', async () => {
    const sampling = SamplingOptions.fromPartial({
      jitterProb: 0.4,
      negativeProb: 0.3,
      centerProb: 0.3,
      samplesPerNodule: 2,
      negativesPerEpoch: 3,
      padValue: 17,
      shuffleWindow: 0,
    });
    const batches = await streamAll(server.client, {
      seed: 8n,
      epoch: 2,
      batchSize: 3,
      cropSize: CROP,
      sampling,
    });
    const samples = samplesByIndex(batches);
    for (const index of [0n, 4n, BigInt(samples.size - 1)]) {
      const single = await getSample(server.client, { seed: 8n, epoch: 2, index, cropSize: CROP, sampling });
      assert.deepEqual(single.shape, [1, ...CROP]);
      assert.equal(single.samples[0]!.index, index);
      assert.deepEqual(single.image, samples.get(index)!.image);
      assert.deepEqual(single.mask, samples.get(index)!.mask);
    }
  });

  it('sends float32 tensors equal to the uint8 voxels divided by 255', async () => {
    const request = { seed: 21n, batchSize: 2, cropSize: CROP, maxSteps: 2n };
    const bytes = await streamAll(server.client, request);
    const floats = await streamAll(server.client, { ...request, dtype: DType.DTYPE_FLOAT32 });
    assert.equal(floats.length, bytes.length);
    floats.forEach((batch, step) => {
      assert.equal(batch.dtype, DType.DTYPE_FLOAT32);
      const values = new Float32Array(
        batch.image.buffer.slice(batch.image.byteOffset, batch.image.byteOffset + batch.image.length),
      );
      const voxels = bytes[step]!.image;
      assert.equal(values.length, voxels.length);
      for (let i = 0; i < values.length; i++) assert.equal(values[i], Math.fround(voxels[i]! / 255));
      assert.deepEqual(batch.mask, bytes[step]!.mask);
    });
  });

  it('cuts jitter and center crops whose mask holds the nodule centre, at size // 2 for center crops', async () => {
    const checks = { center: 0, jitter: 0 };
    for (const seed of [1n, 2n, 3n, 4n]) {
      const batches = await streamAll(server.client, {
        seed,
        batchSize: 4,
        cropSize: [9, 16, 20],
        sampling: SamplingOptions.fromPartial({
          jitterProb: 0.5,
          negativeProb: 0,
          centerProb: 0.5,
          samplesPerNodule: 2,
          negativesPerEpoch: 0,
          padValue: 0,
          shuffleWindow: 0,
        }),
      });
      for (const batch of batches) {
        batch.samples.forEach((info, slot) => {
          const mask = sampleSlice(batch, 'mask', slot);
          const centre = info.noduleCenter.map((c, axis) => Math.floor(c + 0.5) - info.origin[axis]!);
          const [i, j, k] = centre as [number, number, number];
          assert.equal(mask[(i * 16 + j) * 20 + k], 1, `sample ${info.index} mode ${info.mode}`);
          if (info.mode === CropMode.CROP_MODE_CENTER) {
            assert.deepEqual(centre, [4, 8, 10]);
            checks.center += 1;
          } else {
            checks.jitter += 1;
          }
        });
      }
    }
    assert.ok(checks.center > 0 && checks.jitter > 0, JSON.stringify(checks));
  });

  it('splits series into train and holdout parts that never share a series', async () => {
    const sampling = SamplingOptions.fromPartial({
      jitterProb: 0,
      negativeProb: 0,
      centerProb: 1,
      samplesPerNodule: 1,
      negativesPerEpoch: 0,
      padValue: 0,
      shuffleWindow: 0,
    });
    const seriesOf = async (part: SplitPart) => {
      const batches = await streamAll(server.client, {
        seed: 6n,
        batchSize: 1,
        cropSize: CROP,
        sampling,
        split: { holdoutFraction: 0.5, part },
      });
      return new Set(
        batches.flatMap((batch) => batch.samples.map((sample) => `${sample.seriesUid}#${sample.nodule}`)),
      );
    };
    const train = await seriesOf(SplitPart.SPLIT_PART_TRAIN);
    const holdout = await seriesOf(SplitPart.SPLIT_PART_HOLDOUT);
    const all = await seriesOf(SplitPart.SPLIT_PART_ALL);
    const uids = (keys: Set<string>) => new Set([...keys].map((key) => key.split('#')[0]));
    for (const uid of uids(holdout)) assert.ok(!uids(train).has(uid), `${uid} is in both parts`);
    assert.equal(train.size + holdout.size, nodules);
    assert.deepEqual(new Set([...train, ...holdout]), all);
  });

  it('serves the cache-aware order (shuffle_window) with GetSample still equal to the stream', async () => {
    const sampling = SamplingOptions.fromPartial({
      jitterProb: 0,
      negativeProb: 0,
      centerProb: 0,
      samplesPerNodule: 2,
      negativesPerEpoch: 16,
      padValue: 0,
      shuffleWindow: 2,
    });
    const batches = await streamAll(server.client, { seed: 31n, batchSize: 4, cropSize: CROP, sampling });
    const planSize = BigInt(nodules * 2 + 16);
    const seriesInOrder = batches
      .flatMap((batch) => batch.samples)
      .filter((sample) => sample.index < planSize) // positions past the end wrap around
      .sort((a, b) => Number(a.index - b.index))
      .map((sample) => sample.seriesUid);
    // With windows of 2 series, between a series' first and last item there are at most 2 series in all.
    for (const uid of new Set(seriesInOrder)) {
      const span = seriesInOrder.slice(seriesInOrder.indexOf(uid), seriesInOrder.lastIndexOf(uid) + 1);
      assert.ok(new Set(span).size <= 2, `series ${uid} is spread over ${new Set(span).size} series`);
    }
    const samples = samplesByIndex(batches);
    for (const index of [0n, 5n]) {
      const single = await getSample(server.client, { seed: 31n, index, cropSize: CROP, sampling });
      assert.deepEqual(single.image, samples.get(index)!.image);
    }
  });

  it('builds the plan of an epoch once for all the streams that share it', async () => {
    const plans = server.running.registry.datasets.get(server.running.catalog.name)!.plans;
    const before = plans.buildCount;
    await Promise.all(
      Array.from({ length: 8 }, (_, rank) =>
        streamAll(server.client, { seed: 777n, epoch: 5, rank, worldSize: 8, batchSize: 1, cropSize: CROP }),
      ),
    );
    assert.equal(plans.buildCount - before, 1);
  });
});
