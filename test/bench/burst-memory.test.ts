import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runSoak, type SoakResult } from '../../bench/soak/run-soak.js';
import { SETTLED_ALLOWANCE_BYTES } from '../../bench/soak/soak-allowance.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';

const MIB = 1024 ** 2;

/**
 * The soak's `--profile burst` in small: many streams of large batches (64 crops 16x96x96 with masks, 18.9 MB
 * messages), then no traffic. Before the server had one budget for all batches, each stream held up to 5
 * such buffers and gRPC a framed copy of each batch sent, so RSS grew with streams x batch size, and it
 * stayed at its peak once the streams ended.
 */
describe('a burst of large batches on voxelfeed serve', { timeout: 120_000 }, () => {
  let dataset: TempDataset;
  let result: SoakResult;
  const streams = 12;
  const cacheBytes = 8 * MIB;
  const batchBytes = 64 * 2 * 16 * 96 * 96;

  before(async () => {
    dataset = await createPhantomDataset({ series: 24, shape: [32, 64, 64] });
    result = await runSoak({
      dataDir: dataset.dir,
      cacheBytes,
      streams,
      durationMs: 8000,
      sampleMs: 500,
      batchSize: 64,
      crop: [16, 96, 96],
      // The server gives its batch memory back after 5 s without traffic.
      idleMs: 9000,
    });
  });

  after(async () => {
    await dataset?.cleanup();
  });

  it('asks the server for more batch memory than its budget', () => {
    const asked =
      streams * (DEFAULT_SERVICE_LIMITS.prefetchBatches + 1 + DEFAULT_SERVICE_LIMITS.maxUnflushedBatches);
    assert.ok(
      asked * batchBytes > 2 * DEFAULT_SERVICE_LIMITS.batchMemoryBytes,
      'the test would prove nothing',
    );
    assert.ok(
      result.streams.every((stream) => stream.batches >= 1 && stream.error === null),
      JSON.stringify(result.streams),
    );
    assert.equal(result.serverExitCode, 0);
  });

  it('keeps the peak RSS within idle + cache + working memory + loads + --batch-memory', (t) => {
    const rss = [...result.samples, ...result.idleSamples].map((sample) =>
      (sample.rssBytes / MIB).toFixed(0),
    );
    t.diagnostic(`RSS over time, MiB: ${rss.join(' ')}; bound ${(result.boundBytes / MIB).toFixed(0)}`);
    assert.equal(result.allowance.batchBufferBytes, DEFAULT_SERVICE_LIMITS.batchMemoryBytes);
    assert.ok(
      result.maxRssBytes <= result.boundBytes,
      `max RSS ${(result.maxRssBytes / MIB).toFixed(1)} MiB > bound ${(result.boundBytes / MIB).toFixed(1)} MiB (idle ${(result.idleRssBytes / MIB).toFixed(1)})`,
    );
    const inUse = [...result.samples, ...result.idleSamples].map((sample) => sample.gauges.batchMemoryBytes);
    assert.ok(
      inUse.every((bytes) => bytes !== null && bytes <= DEFAULT_SERVICE_LIMITS.batchMemoryBytes),
      `batch memory over time: ${inUse.map((bytes) => ((bytes ?? Number.NaN) / MIB).toFixed(0)).join(' ')} MiB`,
    );
  });

  it('gives the memory back once the traffic stops', () => {
    assert.ok(result.settledRssBytes !== null);
    assert.ok(
      result.settledRssBytes <= result.settledBoundBytes,
      `RSS ${(result.settledRssBytes / MIB).toFixed(1)} MiB 9 s after the streams stopped > idle ${(result.idleRssBytes / MIB).toFixed(1)} + cache ${cacheBytes / MIB} + ${SETTLED_ALLOWANCE_BYTES / MIB} MiB`,
    );
  });
});
