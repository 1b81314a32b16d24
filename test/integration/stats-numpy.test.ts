import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFeedClient } from '../../client/create-feed-client.js';
import type { SampleInfoView } from '../../client/feed-batch.js';
import { statsWithClient } from '../../trainer/inspect/stats/run-stats.js';
import { parseStatsConfig, type StatsConfig } from '../../trainer/inspect/stats/stats-config.js';
import { statsJson } from '../../trainer/inspect/stats/stats-report.js';
import {
  NODULE_SERIES,
  PY_MASK_CROPS,
  pythonJson,
  type TeemUnuDataset,
  writeTeemUnuNoduleDataset,
} from '../support/teem-unu-nodule-dataset.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/**
 * Every figure of `voxelfeed stats`, recomputed with numpy from the samples' records (from GetSample) and
 * crops of the teem-unu-written masks: the foreground count of each crop is numpy's, not the server's.
 */
const REFERENCE_STATS = `${PY_MASK_CROPS}
import json, sys, math
job = json.loads(sys.stdin.read())
size = job["crop"]
masks = {}
rows = {"jitter": [], "center": [], "negative": []}
for s in job["samples"]:
    if s["uid"] not in masks:
        masks[s["uid"]] = load_mask(job["dir"], s["uid"])
    s["fg"] = int(np.count_nonzero(crop_of(masks[s["uid"]], s["origin"], size)))
    rows[s["mode"]].append(s)
rows["all"] = job["samples"]
def whole(s):
    c, half = np.asarray(s["center"]), s["diameter"] / 2
    lo, hi = np.floor(c - half + 0.5), np.floor(c + half + 0.5)
    o = np.asarray(s["origin"])
    return bool(np.all((lo >= o) & (hi <= o + np.asarray(size) - 1)))
def none_if_empty(f, a):
    return None if len(a) == 0 else float(f(a))
out = {}
for name, samples in rows.items():
    fg = np.asarray([s["fg"] for s in samples], dtype=np.float64)
    drawn = [s for s in samples if s["nodule"] >= 0]
    axes = []
    for a in range(3):
        p = np.asarray([(s["center"][a] - s["origin"][a] + 0.5) / size[a] for s in drawn], dtype=np.float64)
        inside = p[(p >= 0) & (p <= 1)]
        hist = np.histogram(inside, bins=np.arange(11) / 10)[0]
        axes.append({"mean": none_if_empty(np.mean, p), "std": none_if_empty(np.std, p),
                     "histogram": [int(h) for h in hist], "below": int(np.sum(p < 0)), "above": int(np.sum(p > 1))})
    n_whole = sum(1 for s in drawn if whole(s))
    out[name] = {
        "crops": len(samples), "drawn_for_nodule": len(drawn), "with_foreground": int(np.sum(fg > 0)),
        "with_foreground_share": None if len(samples) == 0 else int(np.sum(fg > 0)) / len(samples),
        "whole_nodule": n_whole, "whole_nodule_share": None if len(drawn) == 0 else n_whole / len(drawn),
        "foreground_voxels": {"mean": none_if_empty(np.mean, fg), "median": none_if_empty(np.median, fg),
                              "p90": None if len(fg) == 0 else float(np.percentile(fg, 90))},
        "centre_position": axes,
    }
print(json.dumps({"modes": out, "negative_touching_nodule": out["negative"]["with_foreground"]}))
`;

/** Asserts equal JSON trees, numbers within 1e-9 (numpy sums pairwise, JavaScript in order). */
function assertClose(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(
      Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
      `${where}: ${actual} vs ${expected}`,
    );
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${where}: ${JSON.stringify(actual)}`);
    const keys = Object.keys(expected);
    assert.deepEqual(Object.keys(actual).sort(), keys.sort(), where);
    for (const key of keys) {
      assertClose(
        (actual as Record<string, unknown>)[key],
        (expected as Record<string, unknown>)[key],
        `${where}.${key}`,
      );
    }
  } else {
    assert.equal(actual, expected, where);
  }
}

describe('voxelfeed stats against numpy on masks teem-unu wrote', { timeout: 120_000 }, () => {
  let dataset: TeemUnuDataset;
  let server: TestServer;

  before(async () => {
    dataset = await writeTeemUnuNoduleDataset(NODULE_SERIES);
    server = await startTestServer({ data: dataset.dir });
  });

  after(async () => {
    await server?.close();
    await dataset?.cleanup();
  });

  /** The records of the samples the stream gave, each fetched again with GetSample (its own code path). */
  async function recordsByGetSample(
    config: StatsConfig,
    indices: readonly number[],
  ): Promise<SampleInfoView[]> {
    const client = createFeedClient({ address: server.address });
    try {
      const records: SampleInfoView[] = [];
      for (const index of indices) {
        const { request } = config;
        const one = await client.getSample({
          seed: request.seed ?? 0,
          epoch: request.epoch ?? 0,
          cropSize: request.cropSize,
          ...(request.sampling !== undefined ? { sampling: request.sampling } : {}),
          index,
        });
        records.push(one.samples[0]!);
      }
      return records;
    } finally {
      client.close();
    }
  }

  for (const [label, argv] of [
    [
      'a whole epoch of rank 1 of 2',
      ['--world-size', '2', '--rank', '1', '--seed', '3', '--negatives', '40'],
    ],
    [
      '5 steps from step 2, jitter-heavy',
      [
        '--steps',
        '5',
        '--start-step',
        '2',
        '--seed',
        '8',
        '--jitter-prob',
        '0.7',
        '--center-prob',
        '0.1',
        '--negative-prob',
        '0.2',
      ],
    ],
  ] as const) {
    it(`reports for ${label} what numpy computes for the same samples`, async () => {
      const config = parseStatsConfig(
        [
          '--server',
          server.address,
          '--crop',
          '8,24,24',
          '--batch',
          '4',
          '--samples-per-nodule',
          '6',
          ...argv,
        ],
        {},
      );
      assert.ok(config !== 'help');
      assert.equal(config.request.includeMask, false, 'stats asks for no masks');
      const summary = await statsWithClient(config, () => 0);
      const report = statsJson(summary);
      // The samples the stream gave, by plan position: the reference takes each one's record from GetSample.
      const indices = await streamedIndices(config);
      assert.equal(indices.length, summary.stats.all.crops);
      const records = await recordsByGetSample(config, indices);
      const job = {
        dir: dataset.dir,
        crop: config.request.cropSize,
        samples: records.map((s) => ({
          uid: s.seriesUid,
          mode: s.mode,
          origin: s.origin,
          nodule: s.nodule,
          center: s.noduleCenter,
          diameter: s.noduleDiameter,
        })),
      };
      const expected = (await pythonJson(REFERENCE_STATS, job)) as Record<string, unknown>;
      assertClose(
        { modes: report.modes, negative_touching_nodule: report.negative_touching_nodule },
        expected,
        label,
      );
      // The request must exercise the figures: foreground in and out of crops, whole and cut nodules.
      const all = summary.stats.all;
      assert.ok(
        all.withForeground > 0 && all.withForeground < all.crops,
        'crops with and without foreground',
      );
      assert.ok(all.wholeNodule > 0 && all.wholeNodule < all.drawnForNodule, 'whole and cut nodules');
    });
  }

  async function streamedIndices(config: StatsConfig): Promise<number[]> {
    const client = createFeedClient({ address: server.address });
    try {
      const indices: number[] = [];
      for await (const batch of client.streamBatches(config.request))
        indices.push(...batch.samples.map((s) => s.index));
      return indices;
    } finally {
      client.close();
    }
  }
});
