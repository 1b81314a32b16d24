import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import { createEpochPlan, type EpochPlan } from '../../../server/sampling/epoch-plan.js';
import { extractCrop } from '../../../server/sampling/extract-crop.js';
import { planSample } from '../../../server/sampling/plan-sample.js';
import { createRng, toWords } from '../../../server/sampling/rng.js';
import { resolveSamplingPolicy } from '../../../server/sampling/sampling-policy.js';
import type {
  CropMode,
  CropParams,
  Nodule,
  SamplingPolicy,
  SeriesSummary,
  Shape3,
} from '../../../server/sampling/types.js';
import { sphereVolume, syntheticCatalog } from './synthetic-catalog.js';

const round = (x: number) => Math.floor(x + 0.5);

/** The contract of docs/determinism.md, written out again independently of plan-sample.ts. */
function referenceSample(
  plan: EpochPlan,
  series: readonly SeriesSummary[],
  policy: SamplingPolicy,
  seed: bigint,
  epoch: number,
  position: number,
  size: Shape3,
): CropParams {
  const item = plan.itemAt(position);
  const { series: s, nodule: k } = plan.items.item(item);
  const rng = createRng([...toWords(seed), epoch, ...toWords(position), 2]);
  const u = rng.nextFloat();
  const sum = policy.jitterProb + policy.negativeProb + policy.centerProb;
  let mode: CropMode = 'center';
  if (k < 0 || (u >= policy.jitterProb / sum && u < (policy.jitterProb + policy.negativeProb) / sum)) {
    mode = 'negative';
  } else if (u < policy.jitterProb / sum) {
    mode = 'jitter';
  }
  const origin = [0, 1, 2].map((axis) => {
    const sz = size[axis]!;
    if (mode === 'negative') {
      const slack = series[s]!.shape[axis]! - sz;
      return rng.nextInt(Math.min(0, slack), Math.max(0, slack));
    }
    const nodule = series[s]!.nodules[k]!;
    const c = nodule.center[axis]!;
    const lo = round(c - nodule.diameter / 2);
    const hi = round(c + nodule.diameter / 2);
    if (mode === 'jitter' && hi - sz + 1 <= lo) return rng.nextInt(hi - sz + 1, lo);
    return round(c) - Math.floor(sz / 2);
  });
  return {
    index: position,
    item,
    series: s,
    nodule: k,
    mode,
    origin: [origin[0]!, origin[1]!, origin[2]!],
    size,
  };
}

function samplesOf(
  nodule: Nodule,
  shape: Shape3,
  policy: SamplingPolicy,
  size: Shape3,
  count: number,
  seed = 1n,
) {
  const series: SeriesSummary[] = [{ uid: 'one', shape, nodules: [nodule] }];
  const plan = createEpochPlan({ series, policy, seed, epoch: 0 });
  return Array.from({ length: count }, (_, p) =>
    planSample({ plan, series, policy, seed, epoch: 0, cropSize: size }, p),
  );
}

const jitterOnly = resolveSamplingPolicy({ jitterProb: 1 });
const centerOnly = resolveSamplingPolicy({ centerProb: 1 });
const negativeOnly = resolveSamplingPolicy({ negativeProb: 1 });

describe('planSample', () => {
  const catalog: SeriesSummary[] = [
    {
      uid: 'a',
      shape: [40, 64, 64],
      nodules: [
        { center: [10, 20, 30], diameter: 6 },
        { center: [35.4, 60.2, 3.7], diameter: 10 },
      ],
    },
    { uid: 'b', shape: [20, 50, 80], nodules: [] },
    { uid: 'c', shape: [64, 64, 64], nodules: [{ center: [32, 32, 32], diameter: 40 }] },
  ];
  const size: Shape3 = [16, 32, 32];

  it('keeps its golden values for seed 42, epoch 0', () => {
    // These pin the draw order (item, mode, then origin axes 0, 1, 2). Changing them changes every batch the
    // server has ever served for a given request: do so only on purpose, with a new wire version.
    const policy = resolveSamplingPolicy({ samplesPerNodule: 2, negativesPerEpoch: 3 });
    const plan = createEpochPlan({ series: catalog, policy, seed: 42n, epoch: 0 });
    const golden = [0, 1, 2, 3, 4].map((p) => {
      const s = planSample({ plan, series: catalog, policy, seed: 42n, epoch: 0, cropSize: size }, p);
      return [s.item, s.series, s.nodule, s.mode, ...s.origin];
    });
    // Checked by hand against the contract: items 0-1 are (a, 0), 2-3 (a, 1), 4-5 (c, 0), 6-8 negatives.
    // Item 3's jitter range for centre (35.4, 60.2, 3.7), d 10, crop 16x32x32 is [25, 30] x [34, 55] x [-22, -1];
    // negatives of a lie in [0, 24] x [0, 32] x [0, 32] and of c in [0, 48] x [0, 32] x [0, 32].
    assert.deepEqual(golden, [
      [3, 0, 1, 'jitter', 28, 48, -1],
      [1, 0, 0, 'negative', 11, 1, 16],
      [5, 2, 0, 'negative', 25, 2, 3],
      [2, 0, 1, 'jitter', 29, 41, -19],
      [6, 2, -1, 'negative', 29, 25, 26],
    ]);
  });

  it('follows the written contract for many seeds, epochs and positions', () => {
    for (let key = 0; key < 40; key++) {
      const series = syntheticCatalog(key, 2 + (key % 5));
      // Weights turned into probabilities; all three zero (key 8, 20, ...) means the defaults.
      const weights = [key % 4, (key + 1) % 3, key % 2];
      const total = weights[0]! + weights[1]! + weights[2]! || 1;
      const policy = resolveSamplingPolicy({
        jitterProb: weights[0]! / total,
        negativeProb: weights[1]! / total,
        centerProb: weights[2]! / total,
        negativesPerEpoch: 1 + (key % 3),
      });
      const cropSize: Shape3 = [1 + (key % 9), 4 + (key % 13), 2 + ((key * 7) % 17)];
      const seed = BigInt(key) * 0x9e37_79b9_7f4a_7c15n;
      const plan = createEpochPlan({ series, policy, seed, epoch: key * 3 });
      for (let p = 0; p < 2 * plan.size + 3; p++) {
        assert.deepEqual(
          planSample({ plan, series, policy, seed, epoch: key * 3, cropSize }, p),
          referenceSample(plan, series, policy, seed, key * 3, p, cropSize),
        );
      }
    }
  });

  it('gives the same sample for a position whether it is planned alone, first, last or twice', () => {
    const policy = resolveSamplingPolicy({ negativesPerEpoch: 4 });
    for (let seed = 0n; seed < 10n; seed++) {
      const series = syntheticCatalog(Number(seed), 5);
      const plan = createEpochPlan({ series, policy, seed, epoch: 1 });
      const forward = Array.from({ length: 30 }, (_, p) =>
        planSample({ plan, series, policy, seed, epoch: 1, cropSize: size }, p),
      );
      const backward = Array.from({ length: 30 }, (_, q) =>
        planSample({ plan, series, policy, seed, epoch: 1, cropSize: size }, 29 - q),
      );
      assert.deepEqual(forward, backward.reverse());
      const freshPlan = createEpochPlan({ series, policy, seed, epoch: 1 });
      assert.deepEqual(
        planSample({ plan: freshPlan, series, policy, seed, epoch: 1, cropSize: size }, 17),
        forward[17],
      );
      assert.deepEqual(
        planSample({ plan: freshPlan, series, policy, seed, epoch: 1, cropSize: size }, 17),
        forward[17],
      );
    }
  });

  it('refuses a plan of another seed or epoch as an internal error', () => {
    const policy = resolveSamplingPolicy({});
    const plan = createEpochPlan({ series: catalog, policy, seed: 42n, epoch: 0 });
    for (const [seed, epoch] of [
      [43n, 0],
      [42n, 1],
    ] as const) {
      assert.throws(
        () => planSample({ plan, series: catalog, policy, seed, epoch, cropSize: size }, 0),
        (error: unknown) => error instanceof VoxelfeedError && error.code === 'INTERNAL',
      );
    }
  });
});

describe('planSample modes', () => {
  const series = syntheticCatalog(11, 6);
  const draws = 20_000;

  function frequencies(policy: SamplingPolicy): Record<Exclude<CropMode, 'background' | 'label'>, number> {
    const plan = createEpochPlan({ series, policy, seed: 5n, epoch: 0 });
    const counts: Record<CropMode, number> = { jitter: 0, negative: 0, center: 0, background: 0, label: 0 };
    for (let p = 0; p < draws; p++)
      counts[planSample({ plan, series, policy, seed: 5n, epoch: 0, cropSize: [4, 4, 4] }, p).mode]++;
    return {
      jitter: counts.jitter / draws,
      negative: counts.negative / draws,
      center: counts.center / draws,
    };
  }

  // A fair generator puts each frequency within 5 binomial standard deviations, sqrt(p(1-p)/N), of p
  // (a 1-in-a-million miss); 20,000 draws make that about +-0.018 for p = 0.5 and +-0.011 for p = 0.1.
  function assertNear(observed: number, p: number, what: string): void {
    const tolerance = 5 * Math.sqrt((p * (1 - p)) / draws);
    assert.ok(Math.abs(observed - p) <= tolerance, `${what}: ${observed} is not within ${tolerance} of ${p}`);
  }

  const cases: [name: string, options: Parameters<typeof resolveSamplingPolicy>[0], expected: number[]][] = [
    ['the defaults 0.5 / 0.4 / 0.1', {}, [0.5, 0.4, 0.1]],
    [
      'custom probabilities 0.5 / 0.25 / 0.25',
      { jitterProb: 0.5, negativeProb: 0.25, centerProb: 0.25 },
      [0.5, 0.25, 0.25],
    ],
    ['a zero negative probability', { jitterProb: 0.3, centerProb: 0.7 }, [0.3, 0, 0.7]],
    ['a zero jitter probability', { negativeProb: 0.5, centerProb: 0.5 }, [0, 0.5, 0.5]],
    ['center only', { centerProb: 1 }, [0, 0, 1]],
    // As the wire gives them: float32 values whose sum is 1 + 7.5e-9.
    [
      'float32 defaults',
      { jitterProb: 0.5, negativeProb: Math.fround(0.4), centerProb: Math.fround(0.1) },
      [0.5, 0.4, 0.1],
    ],
  ];
  for (const [name, options, [pj, pn, pc]] of cases) {
    it(`draws modes with the frequencies of ${name} for nodule items`, () => {
      const f = frequencies(resolveSamplingPolicy(options));
      assertNear(f.jitter, pj!, 'jitter');
      assertNear(f.negative, pn!, 'negative');
      assertNear(f.center, pc!, 'center');
      // A zero probability is never chosen, not merely rarely.
      if (pj === 0) assert.equal(f.jitter, 0);
      if (pn === 0) assert.equal(f.negative, 0);
      if (pc === 0) assert.equal(f.center, 0);
    });
  }

  it('always gives negative items the negative mode', () => {
    const noNodules: SeriesSummary[] = [{ uid: 'empty', shape: [10, 10, 10], nodules: [] }];
    const policy = resolveSamplingPolicy({ jitterProb: 1, negativesPerEpoch: 50 });
    const plan = createEpochPlan({ series: noNodules, policy, seed: 3n, epoch: 0 });
    for (let p = 0; p < 200; p++) {
      const sample = planSample(
        { plan, series: noNodules, policy, seed: 3n, epoch: 0, cropSize: [4, 4, 4] },
        p,
      );
      assert.equal(sample.mode, 'negative');
      assert.equal(sample.nodule, -1);
    }
  });
});

describe('planSample origins', () => {
  it('keeps the whole nodule extent inside jitter crops, or centres axes where the nodule is larger', () => {
    let centredAxes = 0;
    for (let key = 0; key < 300; key++) {
      const rng = createRng([key, 99]);
      const shape: Shape3 = [rng.nextInt(1, 60), rng.nextInt(1, 60), rng.nextInt(1, 60)];
      const size: Shape3 = [rng.nextInt(1, 24), rng.nextInt(1, 24), rng.nextInt(1, 24)];
      // Centres from well before the first voxel to well past the last; diameters up to past the crop.
      const center = shape.map((n) => rng.nextFloat() * (n + 20) - 10) as unknown as Nodule['center'];
      const diameter = rng.nextFloat() * 30;
      for (const sample of samplesOf({ center, diameter }, shape, jitterOnly, size, 20, BigInt(key))) {
        assert.equal(sample.mode, 'jitter');
        for (let k = 0; k < 3; k++) {
          const lo = round(center[k]! - diameter / 2);
          const hi = round(center[k]! + diameter / 2);
          const o = sample.origin[k]!;
          if (hi - lo + 1 <= size[k]!) {
            assert.ok(
              o <= lo && hi <= o + size[k]! - 1,
              `axis ${k}: [${lo}, ${hi}] not inside [${o}, +${size[k]})`,
            );
          } else {
            assert.equal(o, round(center[k]!) - Math.floor(size[k]! / 2));
            centredAxes++;
          }
        }
      }
    }
    assert.ok(centredAxes > 0, 'no case had a nodule larger than the crop');
  });

  it('spreads jitter origins uniformly over the valid range, both extremes included', () => {
    // Extent [lo, hi] = [8, 12] on every axis, crop 12: valid origins 1..8, eight values.
    const draws = 4000;
    const samples = samplesOf(
      { center: [10, 10, 10], diameter: 4 },
      [30, 30, 30],
      jitterOnly,
      [12, 12, 12],
      draws,
    );
    for (let k = 0; k < 3; k++) {
      const counts = new Map<number, number>();
      for (const s of samples) counts.set(s.origin[k]!, (counts.get(s.origin[k]!) ?? 0) + 1);
      assert.deepEqual(
        [...counts.keys()].sort((a, b) => a - b),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      // Chi-square with 7 degrees of freedom; 24.3 is its 0.999 quantile.
      const expected = draws / 8;
      const chi2 = [...counts.values()].reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      assert.ok(chi2 < 24.3, `axis ${k}: chi2 ${chi2.toFixed(1)}`);
    }
  });

  it('puts the centre voxel round(c) at crop index size // 2 exactly, for odd and even sizes', () => {
    const sizes: Shape3[] = [
      [1, 1, 1],
      [2, 3, 4],
      [15, 16, 17],
      [64, 63, 96],
    ];
    const centers: Nodule['center'][] = [
      [0, 0, 0],
      [10.5, 10.49, 10.51],
      [3.2, 50.7, 99.5],
      [-2.5, 200, 0.5],
    ];
    for (const size of sizes) {
      for (const center of centers) {
        const [sample] = samplesOf({ center, diameter: 7 }, [100, 100, 100], centerOnly, size, 1);
        assert.equal(sample!.mode, 'center');
        for (let k = 0; k < 3; k++) {
          assert.equal(
            round(center[k]!) - sample!.origin[k]!,
            Math.floor(size[k]! / 2),
            `size ${size} centre ${center}`,
          );
        }
      }
    }
  });

  it('keeps negative crops inside the volume when they fit and covers it whole when they do not', () => {
    // Axis 0 fits with 3 voxels to spare (origins 0..3), axis 1 fits exactly, axis 2 is 4 voxels too small (-4..0).
    const samples = samplesOf({ center: [5, 5, 5], diameter: 2 }, [10, 8, 6], negativeOnly, [7, 8, 10], 400);
    const ranges = [
      [0, 3],
      [0, 0],
      [-4, 0],
    ];
    for (let k = 0; k < 3; k++) {
      const values = samples.map((s) => s.origin[k]!);
      assert.deepEqual([Math.min(...values), Math.max(...values)], ranges[k]);
    }
    for (const s of samples) assert.equal(s.mode, 'negative');
  });
});

describe('crops cut at planned origins', () => {
  it('hold their nodule centre voxel in the mask for every jitter and center crop', () => {
    const policy = resolveSamplingPolicy({ jitterProb: 0.5, centerProb: 0.5, negativeProb: 0 });
    let checked = 0;
    for (let key = 0; key < 12; key++) {
      const series = syntheticCatalog(100 + key, 4);
      const volumes = series.map(sphereVolume);
      const size: Shape3 = [3 + (key % 6), 5 + (key % 11), 8 + (key % 5)];
      const voxels = size[0] * size[1] * size[2];
      const mask = new Uint8Array(voxels);
      const image = new Uint8Array(voxels);
      const seed = BigInt(key);
      const plan = createEpochPlan({ series, policy, seed, epoch: 0 });
      for (let p = 0; p < 3 * plan.size; p++) {
        const s = planSample({ plan, series, policy, seed, epoch: 0, cropSize: size }, p);
        extractCrop(volumes[s.series]!, { origin: s.origin, size, padValue: 0 }, { image, mask, offset: 0 });
        const center = series[s.series]!.nodules[s.nodule]!.center;
        const at = center.map((c, k) => round(c) - s.origin[k]!);
        for (const [k, x] of at.entries()) {
          assert.ok(x >= 0 && x < size[k]!, `${s.mode} crop misses the centre on axis ${k}`);
        }
        assert.equal(
          mask[(at[0]! * size[1] + at[1]!) * size[2] + at[2]!],
          1,
          `${s.mode} crop at ${s.origin}`,
        );
        checked++;
      }
    }
    assert.ok(checked > 100);
  });
});
