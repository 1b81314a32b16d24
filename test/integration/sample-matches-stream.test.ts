import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Batch, CropMode, DType } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { EVERY_SAMPLING_OPTION } from '../support/every-sampling-option.js';
import { getSample, sampleSlice, streamAll } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const CROP = [8, 16, 16];

const SAMPLING = EVERY_SAMPLING_OPTION;

describe('GetSample with every sampling option, against the stream', () => {
  let dataset: TempDataset;
  let server: TestServer;

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [20, 40, 40], seed: 5n, labels: 3 });
    server = await startTestServer({ data: dataset.dir });
  });
  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  for (const dtype of [DType.DTYPE_UINT8, DType.DTYPE_FLOAT32]) {
    it(`answers each position with the stream's bytes and sample info (${DType[dtype]})`, async () => {
      const batches: Batch[] = await streamAll(server.client, {
        seed: 12n,
        epoch: 1,
        batchSize: 3,
        cropSize: CROP,
        sampling: SAMPLING,
        dtype,
      });
      const slots = batches.flatMap((batch) => batch.samples.map((info, slot) => ({ batch, info, slot })));
      // The options took effect: transforms were drawn, crops were centred on labels above 1.
      assert.ok(slots.some(({ info }) => (info.augmentation?.flippedAxes.length ?? 0) > 0));
      assert.ok(slots.some(({ info }) => info.augmentation?.noiseStd !== undefined));
      assert.ok(slots.some(({ info }) => info.mode === CropMode.CROP_MODE_LABEL && info.label > 1));
      assert.ok(slots.some(({ batch, slot }) => sampleSlice(batch, 'mask', slot).some((v) => v > 1)));
      for (const { batch, info, slot } of slots) {
        const single = await getSample(server.client, {
          seed: 12n,
          epoch: 1,
          index: info.index,
          cropSize: CROP,
          sampling: SAMPLING,
          dtype,
        });
        assert.deepEqual(single.samples[0], info, `sample ${info.index}`);
        assert.ok(
          sampleSlice(single, 'image', 0).equals(sampleSlice(batch, 'image', slot)),
          `image ${info.index}`,
        );
        assert.ok(
          sampleSlice(single, 'mask', 0).equals(sampleSlice(batch, 'mask', slot)),
          `mask ${info.index}`,
        );
      }
    });
  }
});
