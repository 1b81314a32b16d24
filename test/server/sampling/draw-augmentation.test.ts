import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveAugmentationPolicy } from '../../../server/sampling/augmentation-policy.js';
import { drawAugmentation } from '../../../server/sampling/draw-augmentation.js';
import { createEpochPlan } from '../../../server/sampling/epoch-plan.js';
import { planSample } from '../../../server/sampling/plan-sample.js';
import { type AugmentationPolicy, DEFAULT_SAMPLING_POLICY } from '../../../server/sampling/types.js';
import { syntheticCatalog } from './synthetic-catalog.js';

function policyOf(input: Parameters<typeof resolveAugmentationPolicy>[0]): AugmentationPolicy {
  const problems: string[] = [];
  const policy = resolveAugmentationPolicy(input, problems);
  assert.deepEqual(problems, []);
  assert.ok(policy !== undefined);
  return policy;
}

const ALL = policyOf({
  flipProb: 0.5,
  rotate90Prob: 0.5,
  scaleIntensityProb: 0.5,
  scaleIntensityFactor: 0.25,
  shiftIntensityProb: 0.5,
  shiftIntensityOffset: 0.1,
  adjustContrastProb: 0.5,
  gammaMin: 0.7,
  gammaMax: 1.5,
  gaussianNoiseProb: 0.5,
  gaussianNoiseStd: 0.1,
});

describe('drawAugmentation', () => {
  it('draws each transform from its own stream: enabling one never changes another', () => {
    const onlyFlip = policyOf({ flipProb: 0.5 });
    const onlyGamma = policyOf({ adjustContrastProb: 0.5, gammaMin: 0.7, gammaMax: 1.5 });
    for (let position = 0; position < 2000; position++) {
      const key = { seed: 99n, epoch: 3, position };
      const all = drawAugmentation(ALL, key);
      assert.deepEqual(drawAugmentation(onlyFlip, key).flip, all.flip);
      assert.equal(drawAugmentation(onlyGamma, key).gamma, all.gamma);
      assert.equal(drawAugmentation(onlyFlip, key).gamma, undefined);
    }
  });

  it('keeps drawn values in range, as float32, and applies each at about its probability', () => {
    const counts = { flip: 0, rotate: 0, gamma: 0, scale: 0, shift: 0, noise: 0 };
    const n = 20_000;
    for (let position = 0; position < n; position++) {
      const drawn = drawAugmentation(ALL, { seed: 5n, epoch: 0, position });
      counts.flip += drawn.flip.filter(Boolean).length / 3;
      if (drawn.rotate90 !== 0) {
        counts.rotate++;
        assert.ok([1, 2, 3].includes(drawn.rotate90));
      }
      for (const [name, value, lo, hi] of [
        ['gamma', drawn.gamma, 0.7, 1.5],
        ['scale', drawn.scale, 0.75, 1.25],
        ['shift', drawn.shift, -0.1, 0.1],
        ['noise', drawn.noiseStd, 0, 0.1],
      ] as const) {
        if (value === undefined) continue;
        counts[name]++;
        assert.equal(Math.fround(value), value, `${name} ${value} is no float32`);
        assert.ok(
          value >= Math.fround(lo) && value <= Math.fround(hi),
          `${name} ${value} outside ${lo}..${hi}`,
        );
      }
    }
    // Five binomial standard deviations around 0.5.
    const slack = 5 * Math.sqrt(0.25 / n);
    for (const [name, count] of Object.entries(counts)) {
      assert.ok(Math.abs(count / n - 0.5) < slack, `${name} applied at ${count / n}`);
    }
  });

  it('never applies a transform of probability 0, and mirrors only the allowed axes', () => {
    const policy = policyOf({ flipProb: 1, flipAxes: [1, 2] });
    for (let position = 0; position < 500; position++) {
      const drawn = drawAugmentation(policy, { seed: 1n, epoch: 0, position });
      assert.deepEqual(drawn.flip, [false, true, true]);
      assert.equal(drawn.rotate90, 0);
      assert.equal(drawn.gamma ?? drawn.scale ?? drawn.shift ?? drawn.noiseStd, undefined);
    }
  });

  it('leaves every crop as it is without augmentation', () => {
    const series = syntheticCatalog(4, 6);
    const policy = { ...DEFAULT_SAMPLING_POLICY, negativesPerEpoch: 40 };
    const plan = createEpochPlan({ series, policy, seed: 8n, epoch: 2 });
    for (let position = 0; position < plan.size * 3; position++) {
      const context = { plan, series, seed: 8n, epoch: 2, cropSize: [6, 8, 8] as const };
      const plain = planSample({ ...context, policy }, position);
      const augmented = planSample({ ...context, policy: { ...policy, augmentation: ALL } }, position);
      const { augment, ...crop } = augmented;
      assert.deepEqual(crop, plain);
      assert.deepEqual(augment, drawAugmentation(ALL, { seed: 8n, epoch: 2, position }));
    }
  });
});

describe('resolveAugmentationPolicy', () => {
  it('is undefined when no transform can apply, so such requests keep their batches', () => {
    const problems: string[] = [];
    assert.equal(resolveAugmentationPolicy(undefined, problems), undefined);
    assert.equal(
      resolveAugmentationPolicy({ scaleIntensityFactor: 0.3, flipAxes: [0] }, problems),
      undefined,
    );
    assert.deepEqual(problems, []);
  });

  it("fills nnU-Net's defaults into unset fields with the preset, and keeps fields that are set", () => {
    const policy = policyOf({ preset: 1, gaussianNoiseProb: 0.2 });
    assert.equal(policy.flipProb, 0.5);
    assert.deepEqual(policy.flipAxes, [true, true, true]);
    assert.equal(policy.rotate90Prob, 0);
    assert.equal(policy.scaleProb, 0.15);
    assert.equal(policy.gammaProb, 0.3);
    assert.equal(policy.gammaMin, 0.7);
    assert.equal(policy.gammaMax, 1.5);
    assert.equal(policy.noiseProb, 0.2);
  });

  for (const [input, expected] of [
    [{ flipProb: 1.5 }, 'sampling.augmentation.flip_prob is 1.5; expected 0..1'],
    [{ gaussianNoiseProb: -0.1 }, 'sampling.augmentation.gaussian_noise_prob is -0.1; expected 0..1'],
    [
      { shiftIntensityProb: 0.5, shiftIntensityOffset: 3 },
      'sampling.augmentation.shift_intensity_offset is 3',
    ],
    [
      { adjustContrastProb: 0.3 },
      'sampling.augmentation.gamma_min 0 and gamma_max 0: with adjust_contrast_prob 0.3',
    ],
    [{ adjustContrastProb: 0.3, gammaMin: 2, gammaMax: 1 }, 'gamma_min <= gamma_max'],
    [{ flipProb: 0.5, flipAxes: [3] }, 'sampling.augmentation.flip_axes holds 3; axes are 0, 1 and 2'],
    [{ preset: 7 }, 'sampling.augmentation.preset is 7'],
  ] as const) {
    it(`refuses ${JSON.stringify(input)} naming field, value and range`, () => {
      const problems: string[] = [];
      resolveAugmentationPolicy(input, problems);
      assert.ok(
        problems.some((problem) => problem.includes(expected)),
        `${JSON.stringify(problems)} lacks ${expected}`,
      );
    });
  }
});
