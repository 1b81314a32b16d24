import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { leastSquaresSlope, memorySlopeMiBPerMinute } from '../../bench/soak/memory-slope.js';
import { runSoak, type SoakResult, type SoakSample } from '../../bench/soak/run-soak.js';
import { parseSoakOptions, type SoakOptions } from '../../bench/soak/soak-options.js';
import { formatSoakReport, soakProblems } from '../../bench/soak/soak-report.js';
import { DEFAULT_CONCURRENT_LOADS } from '../../server/config/serve-config.js';
import { DEFAULT_SERVICE_LIMITS } from '../../server/service/service-limits.js';
import { createPhantomDataset, type TempDataset } from '../support/phantom-dataset.js';

const MIB = 1024 ** 2;

describe('memory slope', () => {
  it('is the exact slope of points on a line', () => {
    const points = [0, 10, 20, 30].map((seconds) => ({ seconds, value: 5 + 3 * seconds }));
    assert.equal(leastSquaresSlope(points), 3);
    assert.equal(leastSquaresSlope(points.slice(0, 1)), null);
  });

  it('fits only the second half, in MiB per minute', () => {
    // A warm-up jump in the first half, then 2 MiB per minute (1/30 MiB per second).
    const rss = Array.from({ length: 21 }, (_, i) => ({
      seconds: i * 6,
      value: (i < 10 ? 100 + 40 * (i % 2) : 300 + (2 * i * 6) / 60) * MIB,
    }));
    const slope = memorySlopeMiBPerMinute(rss);
    assert.ok(slope !== null && Math.abs(slope - 2) < 1e-9, String(slope));
  });
});

describe('parseSoakOptions', () => {
  const parse = (argv: string[]) => parseSoakOptions(argv) as SoakOptions;

  it('takes a profile for its defaults, and flags given beside it over them', () => {
    const burst = parse(['--profile', 'burst']);
    assert.deepEqual(
      [
        burst.streams,
        burst.batchSize,
        burst.minutes,
        burst.idleSeconds,
        burst.sampleSeconds,
        burst.stallSeconds,
      ],
      [32, 64, 2, 60, 2, 30],
    );
    assert.equal(parse(['--profile', 'burst', '--streams', '8']).streams, 8);
    const plain = parse([]);
    assert.deepEqual([plain.streams, plain.idleSeconds, plain.stallSeconds], [8, 10, plain.sampleSeconds]);
    assert.equal(parse(['--idle-seconds', '0']).idleSeconds, 0);
    assert.deepEqual(parse(['--serve-arg=--batch-memory=1GiB', '--serve-arg=--max-loads=2']).serverArgs, [
      '--batch-memory=1GiB',
      '--max-loads=2',
    ]);
  });

  it('names an unknown profile and the ones there are', () => {
    assert.throws(() => parseSoakOptions(['--profile', 'huge']), /--profile huge: use one of burst/);
  });
});

describe('soakProblems', () => {
  const sample = (seconds: number, batchesByStream: number[]): SoakSample => ({
    seconds,
    rssBytes: 200 * MIB,
    gauges: {
      cacheBytes: 0,
      loadsRunning: 0,
      loadsQueued: 0,
      heapUsedBytes: 0,
      externalBytes: 0,
      batchMemoryBytes: 0,
      batchMemoryCapacityBytes: 0,
    },
    crops: 0,
    bytes: 0,
    batchesByStream,
    retries: 0,
  });
  const result = (
    samples: SoakSample[],
    maxRssBytes: number,
    settledRssBytes: number | null = null,
    stallMs = 1000,
  ): SoakResult =>
    ({
      options: { sampleMs: 1000, stallMs },
      samples,
      idleSamples: settledRssBytes === null ? [] : [{ ...sample(12, [9, 9]), rssBytes: settledRssBytes }],
      seconds: 2,
      maxRssBytes,
      settledRssBytes,
      boundBytes: 300 * MIB,
      settledBoundBytes: 150 * MIB,
      streams: [0, 1].map((rank) => ({
        rank,
        batches: 9,
        crops: 9,
        bytes: 9,
        epochs: 1,
        retries: 0,
        error: null,
      })),
      serverExitCode: 0,
      serverProblems: [],
    }) as unknown as SoakResult;

  it('finds nothing wrong when every stream moves in every window under the bound', () => {
    assert.deepEqual(soakProblems(result([sample(1, [3, 4]), sample(2, [6, 9])], 250 * MIB)), []);
  });

  it('names a stream that delivered nothing in a window, and an RSS over the bound', () => {
    const problems = soakProblems(result([sample(1, [3, 4]), sample(2, [3, 9])], 301 * MIB));
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0]!, /RSS reached 301\.0 MiB, over the bound of 300\.0 MiB/);
    assert.match(problems[1]!, /stream 0 received no batch between 1\.0 s and 2\.0 s/);
  });

  it('judges stalls over windows of the stall time when that is longer than the sample interval', () => {
    // Stream 0 gets nothing between 1 s and 2 s, then a batch by 3 s; none from 3 s to 6 s.
    const samples = [1, 2, 3, 4, 5, 6].map((seconds) =>
      sample(seconds, [Math.min(3 + Math.floor(seconds / 3), 4), 3 + seconds]),
    );
    assert.deepEqual(soakProblems(result(samples.slice(0, 4), 0, null, 2000)), []);
    assert.equal(soakProblems(result(samples.slice(0, 3), 0)).length, 1, 'with 1 s windows');
    assert.deepEqual(soakProblems(result(samples, 0, null, 2000)), [
      'stream 0 received no batch between 4.0 s and 6.0 s',
    ]);
  });

  it('names an RSS still over the settled bound at the end of the idle phase, and only then', () => {
    const samples = [sample(1, [3, 4]), sample(2, [6, 9])];
    assert.deepEqual(soakProblems(result(samples, 250 * MIB, 150 * MIB)), []);
    const problems = soakProblems(result(samples, 250 * MIB, 151 * MIB));
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0]!, /RSS was still 151\.0 MiB after 10 s without traffic, over 150\.0 MiB/);
  });

  it('does not judge a stream on a last window much shorter than the sample interval', () => {
    assert.deepEqual(
      soakProblems(result([sample(1, [3, 4]), sample(2, [6, 9]), sample(2.2, [6, 10])], 0)),
      [],
    );
    const late = soakProblems(result([sample(1, [3, 4]), sample(2, [6, 9]), sample(3, [6, 10])], 0));
    assert.equal(late.length, 1, late.join('\n'));
  });
});

describe('a 15 s soak of voxelfeed serve', () => {
  let dataset: TempDataset;
  let result: SoakResult;
  const streams = 4;
  const batchSize = 4;
  const cacheBytes = 2 * MIB;

  before(async () => {
    // 48 series of 32x64x64: 12 MiB decoded, 6 times the cache, so the cache evicts all the time.
    dataset = await createPhantomDataset({ series: 48, shape: [32, 64, 64] });
    result = await runSoak({
      dataDir: dataset.dir,
      cacheBytes,
      streams,
      durationMs: 15_000,
      sampleMs: 2500,
      batchSize,
      crop: [16, 32, 32],
    });
  });

  after(async () => {
    await dataset?.cleanup();
  });

  it('keeps the server RSS below idle + cache + the allowance, with the cache itself at its bound', () => {
    assert.ok(result.idleRssBytes > 0 && result.idleRssBytes <= result.maxRssBytes);
    assert.ok(
      result.maxRssBytes <= result.boundBytes,
      `max RSS ${(result.maxRssBytes / MIB).toFixed(1)} MiB > bound ${(result.boundBytes / MIB).toFixed(1)} MiB (idle ${(result.idleRssBytes / MIB).toFixed(1)})`,
    );
    assert.ok(result.datasetBytes >= 5 * cacheBytes, 'the data set does not fit the cache');
    // Running loads (the ones that hold memory) never exceed --max-loads; running and queued together never
    // exceed what the streams' batches in preparation can ask for.
    const loadsBound = streams * (DEFAULT_SERVICE_LIMITS.prefetchBatches + 1) * batchSize;
    for (const { gauges } of result.samples) {
      assert.ok(gauges.cacheBytes !== null && gauges.cacheBytes <= cacheBytes, 'cache bytes');
      assert.ok(
        gauges.loadsRunning !== null && gauges.loadsQueued !== null,
        'load gauges missing from /metrics',
      );
      assert.ok(gauges.loadsRunning <= DEFAULT_CONCURRENT_LOADS, `loads running ${gauges.loadsRunning}`);
      assert.ok(
        gauges.loadsRunning + gauges.loadsQueued <= loadsBound,
        `loads running ${gauges.loadsRunning} + queued ${gauges.loadsQueued}`,
      );
    }
  });

  it('keeps every stream delivering in every window, without errors, and ends the server cleanly', () => {
    assert.ok(result.samples.length >= 5, `${result.samples.length} samples`);
    assert.deepEqual(soakProblems(result), []);
    assert.ok(result.streams.every((stream) => stream.epochs >= 1 && stream.error === null));
    assert.equal(result.serverExitCode, 0);
  });

  it('reports the memory slope in the table and the JSON line', () => {
    const report = formatSoakReport(result, 'test', soakProblems(result));
    assert.match(report, /memory slope, second half, MiB\/min\s+-?\d+\.\d\d/);
    const json = JSON.parse(report.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(typeof json['slope_mib_per_min'], 'number');
    assert.equal(json['slope_mib_per_min'], Number(result.slopeMiBPerMinute?.toFixed(3)));
    assert.equal(json['pass'], true);
  });
});
