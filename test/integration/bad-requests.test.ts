import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ServiceError, status } from '@grpc/grpc-js';
import { Augmentation, type Batch, SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { getSample, isStatus, rejectsWithStatus, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** The server's defaults (every probability zero), for requests that change one field. */
const DEFAULT_SAMPLING = SamplingOptions.fromPartial({ samplesPerNodule: 1 });

describe('requests the server refuses', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 3n });
    server = await startTestServer({ data: dataset.dir, limits: { maxCropVoxels: 32 * 32 * 32 } });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  const invalid: Array<[string, Record<string, unknown>, string[]]> = [
    ['batch_size 0', { batchSize: 0 }, ['batch_size is 0']],
    ['rank not below world_size', { rank: 2, worldSize: 2 }, ['rank is 2', 'world_size is 2']],
    ['a crop over the server limit', { cropSize: [64, 64, 64] }, ['262144 voxels', '32768', 'crop_size']],
    ['a crop with two sizes', { cropSize: [16, 16] }, ['crop_size', '3 values']],
    ['a zero crop size', { cropSize: [0, 16, 16] }, ['crop_size']],
    [
      'a negative probability',
      { sampling: { ...DEFAULT_SAMPLING, jitterProb: -0.5, centerProb: 1 } },
      ['jitter_prob', '-0.5'],
    ],
    [
      'a NaN probability',
      { sampling: { ...DEFAULT_SAMPLING, negativeProb: Number.NaN, centerProb: 1 } },
      ['negative_prob', 'NaN'],
    ],
    [
      'probabilities that do not sum to 1 (no silent normalisation)',
      { sampling: { ...DEFAULT_SAMPLING, jitterProb: 0.3, negativeProb: 0.3, centerProb: 0.2 } },
      ['jitter_prob 0.3, negative_prob 0.3, center_prob 0.2 sum to 0.8', 'must sum to 1', 'all three to 0'],
    ],
    ['an unknown dtype', { dtype: 9 }, ['dtype is 9']],
    ['a fractional pad value', { sampling: { ...DEFAULT_SAMPLING, padValue: 0.5 } }, ['pad_value']],
    [
      'a shuffle window over the limit',
      { sampling: { ...DEFAULT_SAMPLING, shuffleWindow: 2_000_000 } },
      ['shuffle_window is 2000000'],
    ],
    [
      'quarter turns on a crop whose sizes 1 and 2 differ',
      {
        sampling: { ...DEFAULT_SAMPLING, augmentation: Augmentation.fromPartial({ rotate90Prob: 0.5 }) },
        cropSize: [8, 16, 24],
      },
      ['rotate90_prob is 0.5', 'crop_size 8,16,24', 'sizes 1 and 2 unequal'],
    ],
    [
      'a mirror probability above 1',
      { sampling: { ...DEFAULT_SAMPLING, augmentation: Augmentation.fromPartial({ flipProb: 2 }) } },
      ['sampling.augmentation.flip_prob is 2', '0..1'],
    ],
    [
      'gamma without its range',
      {
        sampling: {
          ...DEFAULT_SAMPLING,
          augmentation: Augmentation.fromPartial({ adjustContrastProb: 0.5, gammaMin: 3, gammaMax: 2 }),
        },
      },
      ['gamma_min 3 and gamma_max 2', 'gamma_min <= gamma_max'],
    ],
    [
      'background draws without avoiding foreground',
      { sampling: { ...DEFAULT_SAMPLING, backgroundMaxDraws: 8 } },
      ['background_max_draws is 8', 'avoid_foreground is false'],
    ],
    [
      'a foreground share above 1',
      { sampling: { ...DEFAULT_SAMPLING, foregroundShare: 1.5 } },
      ['foreground_share is 1.5', '0..1'],
    ],
    [
      'a negative label ratio',
      { sampling: { ...DEFAULT_SAMPLING, labelRatios: [1, -1] } },
      ['sampling.label_ratios[1] is -1', '>= 0'],
    ],
  ];

  for (const [name, request, fragments] of invalid) {
    it(`answers INVALID_ARGUMENT naming the field for ${name}`, async () => {
      await rejectsWithStatus(
        streamAll(server.client, { cropSize: [8, 16, 16], ...request }),
        status.INVALID_ARGUMENT,
        fragments,
      );
    });
  }

  it('answers INVALID_ARGUMENT for a foreground share in GetSample, which has no batch', async () => {
    await rejectsWithStatus(
      getSample(server.client, {
        cropSize: [8, 16, 16],
        sampling: { ...DEFAULT_SAMPLING, foregroundShare: 0.5 },
      }),
      status.INVALID_ARGUMENT,
      ['foreground_share is 0.5', 'GetSample'],
    );
  });

  it('reports several problems of one request at once', async () => {
    await rejectsWithStatus(
      streamAll(server.client, { batchSize: 0, rank: 5, worldSize: 2, cropSize: [8, 16] }),
      status.INVALID_ARGUMENT,
      ['batch_size is 0', 'rank is 5', 'crop_size'],
    );
  });

  it('answers NOT_FOUND for a data set it does not serve, listing those it does', async () => {
    await rejectsWithStatus(
      streamAll(server.client, { dataset: 'luna99', cropSize: [8, 16, 16] }),
      status.NOT_FOUND,
      ['luna99', 'phantom'],
    );
    await rejectsWithStatus(getSample(server.client, { dataset: 'luna99' }), status.NOT_FOUND, ['luna99']);
  });

  it('answers OUT_OF_RANGE for a start step past the end of the epoch', async () => {
    await rejectsWithStatus(
      streamAll(server.client, { startStep: 10_000n, cropSize: [8, 16, 16] }),
      status.OUT_OF_RANGE,
      ['start_step is 10000'],
    );
  });

  it('keeps serving after refusing requests', async () => {
    const batches = await streamAll(server.client, { cropSize: [8, 16, 16], maxSteps: 1n });
    assert.equal(batches.length, 1);
  });
});

describe('a volume that turns out corrupt while serving', () => {
  let root: string;
  let server: TestServer;
  let source: TempDataset;

  before(async () => {
    source = await createPhantomDataset({ series: 6, shape: [24, 48, 48], seed: 5n });
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-corrupt-'));
    await cp(source.dir, root, { recursive: true });
    server = await startTestServer({ data: root });
  });

  after(async () => {
    await server?.close();
    await rm(root, { recursive: true, force: true });
    await source?.cleanup();
  });

  it('ends the stream that needs it with DATA_LOSS naming the series, while other streams go on', async () => {
    const request = {
      seed: 4n,
      batchSize: 1,
      cropSize: [8, 16, 16],
      sampling: { ...DEFAULT_SAMPLING, negativesPerEpoch: 12 },
    };
    // The first step names the series it reads; drop that series from the cache and corrupt its file.
    const probe = await streamAll(server.client, { ...request, maxSteps: 1n });
    const victim = probe[0]!.samples[0]!.seriesUid;
    server.running.registry.datasets
      .get(server.running.catalog.name)!
      .cache.delete(server.running.catalog.series.findIndex((series) => series.uid === victim));
    const image = (await readdir(root)).find((name) => name === `${victim}_clean.nrrd`)!;
    const imagePath = path.join(root, image);
    await truncate(imagePath, Math.floor((await stat(imagePath)).size / 2));

    const healthy = (batches: Batch[]) =>
      batches.every((batch) => batch.samples.every((s) => s.seriesUid !== victim));
    const broken = streamAll(server.client, request);
    const others = Array.from({ length: 12 }, (_, index) =>
      getSample(server.client, { ...request, index: BigInt(index) }).then(
        (batch) => ({ batch }),
        (error: ServiceError) => ({ error }),
      ),
    );
    await assert.rejects(broken, isStatus(status.DATA_LOSS, victim));
    const results = await Promise.all(others);
    const served = results.flatMap((result) => ('batch' in result ? [result.batch] : []));
    const failed = results.flatMap((result) => ('error' in result ? [result.error] : []));
    assert.ok(served.length > 0 && healthy(served), 'samples of intact series are still served');
    for (const error of failed) assert.equal(error.code, status.DATA_LOSS);
  });
});
