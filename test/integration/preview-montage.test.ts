import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import {
  createFeedClient,
  type FeedBatch,
  type FeedClient,
  type StreamBatchesInput,
} from '../../client/index.js';
import { SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';
import { loadCaptionFont } from '../../trainer/inspect/image/caption-font.js';
import { MONTAGE_GAP } from '../../trainer/inspect/preview/compose-montage.js';
import { PREVIEW_COLOURS } from '../../trainer/inspect/preview/preview-colours.js';
import { parsePreviewConfig } from '../../trainer/inspect/preview/preview-config.js';
import { previewToFiles } from '../../trainer/inspect/preview/run-preview.js';
import type { WrittenMontage } from '../../trainer/inspect/preview/write-montages.js';
import { getSample, sampleSlice } from '../support/grpc-calls.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const run = promisify(execFile);
const CROP = [12, 32, 32] as const;
const SCALE = 2;
const EVERY = 2;
const SEED = 3;

/** numpy's contour of a crop's mask: the flat indices of mask voxels with an in-plane 4-neighbour at 0. */
async function numpyContour(mask: Buffer, scratch: string): Promise<Set<number>> {
  const file = path.join(scratch, `mask-${Math.random().toString(36).slice(2)}.bin`);
  await import('node:fs/promises').then((fs) => fs.writeFile(file, mask));
  const script = `import json, sys, numpy as np
m = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(${CROP.join(',')}) != 0
out = np.zeros_like(m)
out[:, 1:, :] |= ~m[:, :-1, :]
out[:, :-1, :] |= ~m[:, 1:, :]
out[:, :, 1:] |= ~m[:, :, :-1]
out[:, :, :-1] |= ~m[:, :, 1:]
print(json.dumps([int(i) for i in np.flatnonzero(m & out)]))`;
  const { stdout } = await run('/usr/bin/python3', ['-c', script, file]);
  return new Set(JSON.parse(stdout) as number[]);
}

async function firstBatch(feed: FeedClient, request: StreamBatchesInput): Promise<FeedBatch> {
  for await (const batch of feed.streamBatches(request)) return batch;
  throw new Error('the stream sent no batch');
}

describe('voxelfeed preview montages from a real server', () => {
  let dataset: TempDataset;
  let server: TestServer;
  let feed: FeedClient;
  let root: string;

  before(async () => {
    dataset = await createPhantomDataset({ series: 4, shape: [24, 48, 48], seed: 11n });
    server = await startTestServer({ data: dataset.dir });
    feed = createFeedClient({ addresses: [server.address] });
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-preview-'));
  });

  after(async () => {
    feed?.close();
    await server?.close();
    await dataset?.cleanup();
    await rm(root, { recursive: true, force: true });
  });

  it('draws the contour numpy finds on every mask boundary voxel and each voxel grey elsewhere', async () => {
    const out = path.join(root, 'steps');
    const config = parsePreviewConfig(
      [
        ...[
          '--server',
          server.address,
          '--out',
          out,
          '--seed',
          String(SEED),
          '--steps',
          '3',
          '--batch',
          '3',
          '--negatives',
          '12',
        ],
        ...['--crop', CROP.join(','), '--every', String(EVERY), '--scale', String(SCALE)],
      ],
      {},
    );
    assert.ok(config !== 'help');
    const written: WrittenMontage[] = [];
    await previewToFiles(config, feed, (montage) => written.push(montage));
    assert.deepEqual(
      written.map((montage) => path.basename(montage.file)),
      ['step-000000.png', 'step-000001.png', 'step-000002.png'],
    );

    const lineHeight = (await loadCaptionFont()).lineHeight;
    const [s0, s1, s2] = CROP;
    const shown = Array.from({ length: Math.ceil(s0 / EVERY) }, (_, i) => i * EVERY);
    let contourPixels = 0;
    let greyPixels = 0;
    let crosses = 0;
    for (const montage of written) {
      const png = PNG.sync.read(await readFile(montage.file));
      const rgb = (x: number, y: number) => [
        ...png.data.subarray((y * png.width + x) * 4, (y * png.width + x) * 4 + 3),
      ];
      // The samples of this step, fetched again one by one with the raw gRPC client (GetSample).
      const batch = await firstBatch(feed, { ...config.request, startStep: montage.step!, maxSteps: 1 });
      for (const [row, info] of batch.samples.entries()) {
        const alone = await getSample(server.client, {
          seed: BigInt(SEED),
          index: BigInt(info.index),
          cropSize: [...CROP],
          includeMask: true,
          sampling: SamplingOptions.fromPartial({ negativesPerEpoch: 12 }),
        });
        const image = sampleSlice(alone, 'image', 0);
        const mask = sampleSlice(alone, 'mask', 0);
        const contour = await numpyContour(mask, root);
        const centre = info.noduleCenter.map((c, axis) => Math.round(c - info.origin[axis]!));
        const inside = info.nodule >= 0 && centre.every((c, axis) => c >= 0 && c < CROP[axis]!);
        const crossSlice = inside
          ? shown.reduce((best, z) => (Math.abs(z - centre[0]!) < Math.abs(best - centre[0]!) ? z : best))
          : null;
        const top = MONTAGE_GAP + lineHeight + row * (lineHeight + s1 * SCALE + MONTAGE_GAP) + lineHeight;
        for (const [column, z] of shown.entries()) {
          const left = MONTAGE_GAP + column * (s2 * SCALE + MONTAGE_GAP);
          const pixelOf = (r: number, c: number) =>
            rgb(left + c * SCALE + SCALE - 1, top + r * SCALE + SCALE - 1);
          if (z === crossSlice) {
            // The cross is a third of a voxel thick (one pixel at scale 2), at the block's first pixel.
            assert.deepEqual(
              rgb(left + centre[2]! * SCALE, top + centre[1]! * SCALE),
              [...PREVIEW_COLOURS.centre],
              `cross of #${info.index}`,
            );
            crosses++;
            continue;
          }
          for (let r = 0; r < s1; r++) {
            for (let c = 0; c < s2; c++) {
              const at = (z * s1 + r) * s2 + c;
              const grey = image[at]!;
              const expected = contour.has(at) ? [...PREVIEW_COLOURS.contour] : [grey, grey, grey];
              assert.deepEqual(pixelOf(r, c), expected, `#${info.index} z${z} (${r}, ${c})`);
              if (contour.has(at)) contourPixels++;
              else greyPixels++;
            }
          }
        }
      }
    }
    assert.ok(contourPixels > 20, `only ${contourPixels} contour voxels checked: pick a seed with nodules`);
    assert.ok(greyPixels > 1000);
    assert.ok(crosses > 0, 'no sample had its nodule centre in the crop');
  });

  it('writes one montage per plan position with --indices, captioned with the record', async () => {
    const out = path.join(root, 'indices');
    const config = parsePreviewConfig(
      ['--server', server.address, '--out', out, '--indices', '5,2', '--crop', CROP.join(',')],
      {},
    );
    assert.ok(config !== 'help');
    const written = await previewToFiles(config, feed, () => {});
    assert.deepEqual(
      written.map((montage) => [path.basename(montage.file), montage.samples, montage.slices]),
      [
        ['sample-000005.png', 1, CROP[0]],
        ['sample-000002.png', 1, CROP[0]],
      ],
    );
    const png = PNG.sync.read(await readFile(written[0]!.file));
    assert.equal(png.width, written[0]!.width);
  });

  it('says in one line that a step is past the epoch', async () => {
    const config = parsePreviewConfig(
      [
        '--server',
        server.address,
        '--out',
        path.join(root, 'late'),
        '--start-step',
        '999999',
        '--crop',
        CROP.join(','),
      ],
      {},
    );
    assert.ok(config !== 'help');
    await assert.rejects(
      previewToFiles(config, feed, () => {}),
      (error: Error) => {
        assert.match(error.message, /OUT_OF_RANGE: start_step is 999999 but epoch 0 has \d+ steps/);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      },
    );
  });
});
