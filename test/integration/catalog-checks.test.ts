import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LogLine, recordingLogger } from '../faults/recording-logger.js';
import { writeBoxLayoutDataset } from '../support/box-layout-dataset.js';
import { streamAll } from '../support/grpc-calls.js';
import { scrapeMetrics, startTestServer, type TestServer } from '../support/test-server.js';

/*
 * A real server on data sets written by numpy and unu: boxes that miss their mask are found when a series is
 * first decoded (a warn line once per series, a gauge), the series is still served, and a crop smaller than
 * some nodules is warned about once per crop size.
 */

/** One decoded series (2 x 20x48x48 bytes) fits, two do not: every epoch decodes most series again. */
const ONE_VOLUME_CACHE = 100_000;

function gauge(page: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(page);
  assert.ok(match, `${name} is not on the page:\n${page}`);
  return Number(match[1]);
}

function boxLines(lines: readonly LogLine[]): LogLine[] {
  return lines.filter((line) => line.message.startsWith('box centres miss the mask'));
}

describe('the server checks boxes against masks and crops against nodules', () => {
  let root = '';
  let wrongUids: string[] = [];
  let wrong: TestServer;
  let right: TestServer;
  const wrongLines: LogLine[] = [];
  const rightLines: LogLine[] = [];

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-box-mask-'));
    const [uids] = await Promise.all([
      writeBoxLayoutDataset(path.join(root, 'wrong'), ['zxy', 'voxels', 'millimetres', 'zxy']),
      writeBoxLayoutDataset(path.join(root, 'right'), ['voxels', 'voxels', 'voxels']),
    ]);
    wrongUids = uids;
    wrong = await startTestServer({
      data: path.join(root, 'wrong'),
      cacheMaxBytes: ONE_VOLUME_CACHE,
      logger: recordingLogger(wrongLines),
    });
    right = await startTestServer({
      data: path.join(root, 'right'),
      cacheMaxBytes: ONE_VOLUME_CACHE,
      logger: recordingLogger(rightLines),
    });
  });
  after(async () => {
    await wrong?.close();
    await right?.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('logs each series whose boxes miss its mask once, with the cause, counts it, and still serves it', async () => {
    const cache = wrong.running.registry.datasets.get('wrong')!.cache;
    const served = new Set<string>();
    for (const epoch of [0, 1, 2]) {
      const batches = await streamAll(wrong.client, { epoch, batchSize: 2, cropSize: [8, 16, 16] });
      for (const sample of batches.flatMap((batch) => batch.samples)) served.add(sample.seriesUid);
    }
    assert.ok(cache.loads > 4, `${cache.loads} loads: series were decoded again after eviction`);
    assert.deepEqual([...served].sort(), [...wrongUids].sort(), 'every series is still served');

    const lines = boxLines(wrongLines);
    assert.deepEqual(
      lines.map((line) => line.fields['uid']).sort(),
      [wrongUids[0], wrongUids[2], wrongUids[3]].sort(),
      'once per mismatching series, however often it is decoded',
    );
    for (const line of lines) assert.equal(line.level, 'warn');
    const reasonOf = (uid: string) =>
      String(lines.find((line) => line.fields['uid'] === uid)?.fields['reason']);
    assert.ok(
      reasonOf(wrongUids[0]!).includes('look like (z, x, y), expected (z, y, x)'),
      reasonOf(wrongUids[0]!),
    );
    assert.ok(reasonOf(wrongUids[2]!).includes('look like millimetres'), reasonOf(wrongUids[2]!));

    const page = await scrapeMetrics(wrong.running);
    assert.equal(gauge(page, 'voxelfeed_box_mask_mismatch_series'), 3);
    assert.equal(gauge(page, 'voxelfeed_box_mask_checked_series'), 4);
  });

  it('raises nothing when the boxes are right', async () => {
    for (const epoch of [0, 1]) await streamAll(right.client, { epoch, batchSize: 2, cropSize: [8, 16, 16] });
    assert.deepEqual(boxLines(rightLines), []);
    const page = await scrapeMetrics(right.running);
    assert.equal(gauge(page, 'voxelfeed_box_mask_mismatch_series'), 0);
    assert.equal(gauge(page, 'voxelfeed_box_mask_checked_series'), 3);
  });

  it('warns once per crop size that is smaller than some nodules on an axis, naming the count and an example', async () => {
    const larger = () =>
      rightLines.filter((line) => line.message.includes('nodules are larger than the crop'));
    await streamAll(right.client, { batchSize: 2, cropSize: [8, 16, 16], maxSteps: 1n });
    assert.deepEqual(larger(), [], 'diameter 5 fits 8x16x16');
    await streamAll(right.client, { batchSize: 2, cropSize: [4, 16, 16], maxSteps: 1n });
    await streamAll(right.client, { epoch: 1, batchSize: 2, cropSize: [4, 16, 16], maxSteps: 1n });
    const lines = larger();
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const [line] = lines;
    assert.equal(line!.level, 'warn');
    assert.equal(line!.fields['crop'], '4x16x16');
    assert.equal(line!.fields['nodulesLarger'], 6);
    assert.ok(line!.message.startsWith('6 of 6 nodules are larger than the crop 4x16x16'), line!.message);
    assert.ok(line!.message.includes('diameter 5 > 4 on axis 0'), line!.message);
  });
});
