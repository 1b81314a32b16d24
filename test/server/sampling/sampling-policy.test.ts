import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoxelfeedError } from '../../../server/errors.js';
import {
  MAX_NEGATIVES_PER_EPOCH,
  MAX_SAMPLES_PER_NODULE,
  resolveSamplingPolicy,
  type SamplingOptionsInput,
} from '../../../server/sampling/sampling-policy.js';

function invalid(options: SamplingOptionsInput, ...fragments: string[]): void {
  assert.throws(
    () => resolveSamplingPolicy(options),
    (error: unknown) => {
      assert.ok(error instanceof VoxelfeedError);
      assert.equal(error.code, 'INVALID_ARGUMENT');
      for (const fragment of fragments)
        assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      return true;
    },
  );
}

describe('resolveSamplingPolicy', () => {
  it('fills the documented defaults when options are absent or all zero', () => {
    const defaults = {
      jitterProb: 0.5,
      negativeProb: 0.4,
      centerProb: 0.1,
      samplesPerNodule: 1,
      negativesPerEpoch: 0,
      padValue: 0,
      shuffleWindow: 0,
    };
    assert.deepEqual(resolveSamplingPolicy(undefined), defaults);
    assert.deepEqual(resolveSamplingPolicy({}), defaults);
    assert.deepEqual(
      resolveSamplingPolicy({
        jitterProb: 0,
        negativeProb: 0,
        centerProb: 0,
        samplesPerNodule: 0,
        padValue: 0,
      }),
      defaults,
    );
  });

  it('keeps explicit probabilities, zeros included, once any is set', () => {
    const policy = resolveSamplingPolicy({
      centerProb: 1,
      samplesPerNodule: 4,
      negativesPerEpoch: 12,
      padValue: 255,
      shuffleWindow: 8,
    });
    assert.deepEqual(policy, {
      jitterProb: 0,
      negativeProb: 0,
      centerProb: 1,
      samplesPerNodule: 4,
      negativesPerEpoch: 12,
      padValue: 255,
      shuffleWindow: 8,
    });
  });

  it('accepts probabilities that sum to 1 within 1e-6, float32 values from the wire included', () => {
    const accepted: [jitterProb: number, negativeProb: number, centerProb: number][] = [
      [0.5, Math.fround(0.4), Math.fround(0.1)],
      [Math.fround(0.3), 0, Math.fround(0.7)],
      [Math.fround(1 / 3), Math.fround(1 / 3), Math.fround(1 / 3)],
      [0.2, 0.3, 0.5 + 0.9e-6],
      [0.2, 0.3, 0.5 - 0.9e-6],
    ];
    for (const [jitterProb, negativeProb, centerProb] of accepted) {
      const policy = resolveSamplingPolicy({ jitterProb, negativeProb, centerProb });
      assert.deepEqual(
        [policy.jitterProb, policy.negativeProb, policy.centerProb],
        [jitterProb, negativeProb, centerProb],
      );
    }
  });

  it('refuses probabilities that do not sum to 1, naming the three values, their sum and the fix', () => {
    const refused: [options: SamplingOptionsInput, named: string][] = [
      [{ centerProb: 0.2 }, 'jitter_prob 0, negative_prob 0, center_prob 0.2 sum to 0.2'],
      [
        { jitterProb: 2, negativeProb: 1, centerProb: 1 },
        'jitter_prob 2, negative_prob 1, center_prob 1 sum to 4',
      ],
      // float32 values as a client sends 0.3 / 0.3 / 0.2: printed as written, not as 0.30000001192092896.
      [
        { jitterProb: Math.fround(0.3), negativeProb: Math.fround(0.3), centerProb: Math.fround(0.2) },
        'jitter_prob 0.3, negative_prob 0.3, center_prob 0.2 sum to 0.8',
      ],
      [{ jitterProb: 0.2, negativeProb: 0.3, centerProb: 0.5 + 2e-6 }, 'sum to 1.000002'],
      [{ jitterProb: 1e-45 }, 'sum to 1e-45'],
    ];
    for (const [options, named] of refused) {
      invalid(
        options,
        named,
        'they must sum to 1 (within 0.000001)',
        'or set all three to 0 for the defaults',
      );
    }
  });

  it('accepts the limits themselves', () => {
    const policy = resolveSamplingPolicy({
      samplesPerNodule: MAX_SAMPLES_PER_NODULE,
      negativesPerEpoch: MAX_NEGATIVES_PER_EPOCH,
    });
    assert.equal(policy.samplesPerNodule, 1000);
    assert.equal(policy.negativesPerEpoch, 1_000_000);
  });

  const cases: [name: string, options: SamplingOptionsInput, message: string][] = [
    [
      'a negative probability',
      { jitterProb: -0.2, centerProb: 1 },
      'sampling.jitter_prob is -0.2; probabilities must be finite and >= 0',
    ],
    ['a NaN probability', { negativeProb: Number.NaN }, 'sampling.negative_prob is NaN'],
    ['an infinite probability', { centerProb: Number.POSITIVE_INFINITY }, 'sampling.center_prob is Infinity'],
    ['probabilities whose sum overflows', { jitterProb: 1e308, negativeProb: 1e308 }, 'sum to Infinity'],
    [
      'samples_per_nodule past the limit',
      { samplesPerNodule: 1001 },
      'sampling.samples_per_nodule is 1001; the limit is 1000',
    ],
    ['a fractional samples_per_nodule', { samplesPerNodule: 1.5 }, 'sampling.samples_per_nodule is 1.5'],
    ['negatives_per_epoch past the limit', { negativesPerEpoch: 1_000_001 }, 'the limit is 1000000'],
    ['a negative negatives_per_epoch', { negativesPerEpoch: -1 }, 'sampling.negatives_per_epoch is -1'],
    ['pad_value past 255', { padValue: 256 }, 'sampling.pad_value is 256; expected an integer 0..255'],
    ['a fractional pad_value', { padValue: 0.5 }, 'sampling.pad_value is 0.5'],
  ];
  for (const [name, options, message] of cases) {
    it(`refuses ${name}, naming the field and the value`, () => invalid(options, message));
  }

  it('reports every problem in one error', () => {
    assert.throws(
      () =>
        resolveSamplingPolicy({
          jitterProb: -1,
          centerProb: Number.NaN,
          samplesPerNodule: 5000,
          padValue: -3,
        }),
      (error: unknown) => {
        assert.ok(error instanceof VoxelfeedError);
        assert.deepEqual(error.message.split('; ').filter((part) => part.startsWith('sampling.')).length, 4);
        for (const field of [
          'jitter_prob is -1',
          'center_prob is NaN',
          'samples_per_nodule is 5000',
          'pad_value is -3',
        ]) {
          assert.ok(error.message.includes(field), `"${error.message}" lacks ${field}`);
        }
        return true;
      },
    );
  });
});
