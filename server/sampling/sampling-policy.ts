import { VoxelfeedError } from '../errors.js';
import { type AugmentationInput, resolveAugmentationPolicy } from './augmentation-policy.js';
import { DEFAULT_SAMPLING_POLICY, type SamplingPolicy } from './types.js';

export const MAX_SAMPLES_PER_NODULE = 1000;
// Bounds a plan (4 bytes per item) and its build: the server builds a plan once per seed, epoch and
// sampling, in slices between other streams' work (PlanBuildQueue); a million negatives take 0.1 to 1 s of
// work in all (a windowed order or a bad-series replacement looks up every negative's series, ~1 us each).
export const MAX_NEGATIVES_PER_EPOCH = 1_000_000;
export const MAX_SHUFFLE_WINDOW = 1_000_000;
/** How far set crop-mode probabilities may sum from 1. */
export const PROBABILITY_SUM_TOLERANCE = 1e-6;
/** Origins a negative that avoids foreground draws at most, unless the request says otherwise. */
export const DEFAULT_BACKGROUND_MAX_DRAWS = 32;
export const MAX_BACKGROUND_MAX_DRAWS = 1024;

/** The request's sampling options as the wire gives them: zero or absent means "use the default". */
export interface SamplingOptionsInput {
  readonly jitterProb?: number;
  readonly negativeProb?: number;
  readonly centerProb?: number;
  readonly samplesPerNodule?: number;
  readonly negativesPerEpoch?: number;
  readonly padValue?: number;
  readonly shuffleWindow?: number;
  readonly augmentation?: AugmentationInput | undefined;
  readonly avoidForeground?: boolean;
  readonly backgroundMaxDraws?: number;
  readonly foregroundShare?: number;
  readonly keepLabels?: boolean;
  readonly labelRatios?: readonly number[];
}

/** Labels are uint8: ratios for labels 0..255. */
export const MAX_LABEL_RATIOS = 256;

/**
 * Fills the defaults (probabilities 0.5 / 0.4 / 0.1 when all three are zero, samples_per_nodule 1) and checks
 * every value (set probabilities must sum to 1 within `PROBABILITY_SUM_TOLERANCE`), reporting every problem in
 * one INVALID_ARGUMENT error whose message names field and value.
 */
export function resolveSamplingPolicy(options: SamplingOptionsInput | undefined): SamplingPolicy {
  const problems: string[] = [];
  let jitterProb = options?.jitterProb ?? 0;
  let negativeProb = options?.negativeProb ?? 0;
  let centerProb = options?.centerProb ?? 0;
  if (jitterProb === 0 && negativeProb === 0 && centerProb === 0) {
    ({ jitterProb, negativeProb, centerProb } = DEFAULT_SAMPLING_POLICY);
  } else {
    const probabilities: [string, number][] = [
      ['jitter_prob', jitterProb],
      ['negative_prob', negativeProb],
      ['center_prob', centerProb],
    ];
    let allValid = true;
    for (const [field, value] of probabilities) {
      if (!Number.isFinite(value) || value < 0) {
        problems.push(
          `sampling.${field} is ${formatWireFloat(value)}; probabilities must be finite and >= 0`,
        );
        allValid = false;
      }
    }
    const sum = jitterProb + negativeProb + centerProb;
    // Refused rather than normalised: weights such as 0.3 / 0.3 / 0.2 are more often a typo than a wish for
    // 0.375 / 0.375 / 0.25. The tolerance absorbs float32 rounding on the wire (0.5 + 0.4f + 0.1f is 1 + 7.5e-9).
    if (allValid && !(Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE)) {
      problems.push(
        `sampling probabilities jitter_prob ${formatWireFloat(jitterProb)}, negative_prob ${formatWireFloat(negativeProb)}, ` +
          `center_prob ${formatWireFloat(centerProb)} sum to ${Number(sum.toPrecision(7))}; they must sum to 1 ` +
          `(within ${PROBABILITY_SUM_TOLERANCE}): adjust them, or set all three to 0 for the defaults 0.5 / 0.4 / 0.1`,
      );
    }
  }

  const requestedSamples = options?.samplesPerNodule ?? 0;
  const samplesPerNodule = requestedSamples === 0 ? 1 : requestedSamples;
  checkCount(problems, 'samples_per_nodule', samplesPerNodule, {
    min: 1,
    max: MAX_SAMPLES_PER_NODULE,
    per: 'per nodule',
  });

  const negativesPerEpoch = options?.negativesPerEpoch ?? 0;
  checkCount(problems, 'negatives_per_epoch', negativesPerEpoch, {
    min: 0,
    max: MAX_NEGATIVES_PER_EPOCH,
    per: 'per epoch',
  });

  const padValue = options?.padValue ?? 0;
  if (!Number.isInteger(padValue) || padValue < 0 || padValue > 255) {
    problems.push(`sampling.pad_value is ${padValue}; expected an integer 0..255 in stored voxel units`);
  }

  const shuffleWindow = options?.shuffleWindow ?? 0;
  if (!Number.isInteger(shuffleWindow) || shuffleWindow < 0 || shuffleWindow > MAX_SHUFFLE_WINDOW) {
    problems.push(
      `sampling.shuffle_window is ${shuffleWindow}; expected 0 (shuffle the whole epoch) or a number of series 1..${MAX_SHUFFLE_WINDOW}`,
    );
  }

  const augmentation = resolveAugmentationPolicy(options?.augmentation, problems);

  const requestedDraws = options?.backgroundMaxDraws ?? 0;
  const avoidForeground = options?.avoidForeground ?? false;
  if (!Number.isInteger(requestedDraws) || requestedDraws < 0 || requestedDraws > MAX_BACKGROUND_MAX_DRAWS) {
    problems.push(
      `sampling.background_max_draws is ${requestedDraws}; expected 0 (the default ${DEFAULT_BACKGROUND_MAX_DRAWS}) or 1..${MAX_BACKGROUND_MAX_DRAWS}`,
    );
  } else if (requestedDraws > 0 && !avoidForeground) {
    problems.push(
      `sampling.background_max_draws is ${requestedDraws} but avoid_foreground is false; set avoid_foreground to true or background_max_draws to 0`,
    );
  }
  const backgroundMaxDraws = requestedDraws === 0 ? DEFAULT_BACKGROUND_MAX_DRAWS : requestedDraws;

  const foregroundShare = options?.foregroundShare ?? 0;
  if (!Number.isFinite(foregroundShare) || foregroundShare < 0 || foregroundShare > 1) {
    problems.push(
      `sampling.foreground_share is ${formatWireFloat(foregroundShare)}; expected 0..1 (nnU-Net's oversample_foreground_percent is 0.33)`,
    );
  }

  const labelRatios = options?.labelRatios ?? [];
  if (labelRatios.length > MAX_LABEL_RATIOS) {
    problems.push(
      `sampling.label_ratios has ${labelRatios.length} entries; labels are 0..255, so at most ${MAX_LABEL_RATIOS}`,
    );
  } else {
    const bad = labelRatios.findIndex((ratio) => !Number.isFinite(ratio) || ratio < 0);
    if (bad >= 0) {
      problems.push(
        `sampling.label_ratios[${bad}] is ${formatWireFloat(labelRatios[bad]!)}; ratios must be finite and >= 0`,
      );
    } else if (labelRatios.length > 0 && !labelRatios.some((ratio) => ratio > 0)) {
      problems.push(
        `sampling.label_ratios are all 0; give label c the weight at index c (index 0: background), e.g. [1, 1, 1]`,
      );
    }
  }

  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('; '));
  // The newer options appear only when set, so a policy without them equals (and keys plans like) one from
  // before they existed.
  return {
    jitterProb,
    negativeProb,
    centerProb,
    samplesPerNodule,
    negativesPerEpoch,
    padValue,
    shuffleWindow,
    ...(augmentation === undefined ? {} : { augmentation }),
    ...(avoidForeground ? { backgroundMaxDraws } : {}),
    ...(foregroundShare > 0 ? { foregroundShare } : {}),
    ...(options?.keepLabels === true ? { keepLabels: true as const } : {}),
    ...(labelRatios.length > 0 ? { labelRatios: [...labelRatios] } : {}),
  };
}

/** An integer option with a floor and a configured limit: two messages, one for each way to miss. */
function checkCount(
  problems: string[],
  field: string,
  value: number,
  range: { readonly min: number; readonly max: number; readonly per: string },
): void {
  const { min, max, per } = range;
  if (!Number.isInteger(value) || value < min) {
    problems.push(`sampling.${field} is ${value}; expected an integer ${min}..${max}`);
  } else if (value > max) {
    problems.push(`sampling.${field} is ${value}; the limit is ${max} ${per}; lower it`);
  }
}

/**
 * A wire float as its sender wrote it: a float32 field holds 0.3 as 0.30000001192092896, so print the shortest
 * decimal that gives back the same float32. Values that are no float32 print as they are.
 */
function formatWireFloat(value: number): string {
  if (!Number.isFinite(value) || Math.fround(value) !== value) return String(value);
  for (let digits = 1; digits < 9; digits++) {
    const shorter = Number(value.toPrecision(digits));
    if (Math.fround(shorter) === value) return String(shorter);
  }
  return String(value);
}
