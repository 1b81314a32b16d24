import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { FeedBatch, SampleInfoView } from '../../client/feed-batch.js';
import type { StreamBatchesInput } from '../../client/feed-requests.js';
import {
  NODULE_SERIES,
  PY_MASK_CROPS,
  pythonJson,
  type TeemUnuDataset,
  writeTeemUnuNoduleDataset,
} from '../support/teem-unu-nodule-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const CROP = [8, 24, 24] as const;

/** The non-zero voxels of each sample's numpy crop of the teem-unu-written mask at the sample's origin. */
const REFERENCE_COUNTS = `${PY_MASK_CROPS}
import json, sys
job = json.loads(sys.stdin.read())
masks = {}
counts = []
for uid, origin in job["samples"]:
    if uid not in masks:
        masks[uid] = load_mask(job["dir"], uid)
    counts.append(int(np.count_nonzero(crop_of(masks[uid], origin, job["crop"]))))
print(json.dumps(counts))
`;

describe('SampleInfo.foreground_voxels on a real server, against numpy crops of masks teem-unu wrote', {
  timeout: 120_000,
}, () => {
  let dataset: TeemUnuDataset;
  let server: TestServer;
  const request: StreamBatchesInput = {
    seed: 5,
    epoch: 1,
    batchSize: 4,
    cropSize: CROP,
    sampling: {
      jitterProb: 0.4,
      negativeProb: 0.4,
      centerProb: 0.2,
      samplesPerNodule: 6,
      negativesPerEpoch: 40,
    },
  };

  before(async () => {
    dataset = await writeTeemUnuNoduleDataset(NODULE_SERIES);
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  async function stream(input: StreamBatchesInput): Promise<FeedBatch[]> {
    const client = createFeedClient({ address: server.address });
    try {
      const batches: FeedBatch[] = [];
      for await (const batch of client.streamBatches(input)) batches.push(batch);
      return batches;
    } finally {
      client.close();
    }
  }

  async function referenceCounts(samples: readonly SampleInfoView[]): Promise<number[]> {
    const job = { dir: dataset.dir, crop: CROP, samples: samples.map((s) => [s.seriesUid, s.origin]) };
    return (await pythonJson(REFERENCE_COUNTS, job)) as number[];
  }

  it('counts every streamed crop as numpy does, padding as background, without the mask and with it', async () => {
    const withoutMask = await stream({ ...request, includeMask: false });
    const samples = withoutMask.flatMap((batch) => batch.samples);
    assert.ok(samples.length >= 80, `${samples.length} samples`);
    const expected = await referenceCounts(samples);
    assert.deepEqual(
      samples.map((s) => s.foregroundVoxels),
      expected,
    );
    // The data set must exercise the field: crops with and without nodule voxels, padded ones among both.
    assert.ok(expected.some((n) => n === 0) && expected.some((n) => n > 0));
    const shapes = new Map(NODULE_SERIES.map((series) => [series.uid, series.shape]));
    const padded = (s: SampleInfoView) =>
      s.origin.some((o, a) => o < 0 || o + CROP[a]! > shapes.get(s.seriesUid)![a]!);
    assert.ok(
      samples.some((s, i) => padded(s) && expected[i]! > 0),
      'a padded crop holding foreground',
    );

    // With the mask sent, the same counts, equal to the mask's own non-zero bytes per crop.
    const withMask = await stream({ ...request, includeMask: true });
    const voxels = CROP[0] * CROP[1] * CROP[2];
    withMask.forEach((batch, b) => {
      assert.deepEqual(batch.samples, withoutMask[b]!.samples, `step ${batch.step}`);
      batch.samples.forEach((s, slot) => {
        const crop = batch.mask!.subarray(slot * voxels, (slot + 1) * voxels);
        assert.equal(
          s.foregroundVoxels,
          crop.reduce((sum, v) => sum + (v !== 0 ? 1 : 0), 0),
        );
      });
    });
  });

  it('gives GetSample the same count as the stream, mask or not', async () => {
    const [first] = await stream({ ...request, includeMask: false, maxSteps: 1 });
    const client = createFeedClient({ address: server.address });
    try {
      for (const sample of first!.samples) {
        for (const includeMask of [false, true]) {
          const one = await client.getSample({ ...request, index: sample.index, includeMask });
          assert.equal(one.samples[0]!.foregroundVoxels, sample.foregroundVoxels, `index ${sample.index}`);
        }
      }
      const expected = await referenceCounts(first!.samples);
      assert.deepEqual(
        first!.samples.map((s) => s.foregroundVoxels),
        expected,
      );
    } finally {
      client.close();
    }
  });
});
