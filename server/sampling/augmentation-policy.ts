import type { AugmentationPolicy } from './types.js';

/** The wire's `Augmentation` message: zero or absent means unset. */
export interface AugmentationInput {
  /** 1: nnU-Net's defaults for every field left at 0. */
  readonly preset?: number;
  readonly flipProb?: number;
  readonly flipAxes?: readonly number[];
  readonly rotate90Prob?: number;
  readonly scaleIntensityProb?: number;
  readonly scaleIntensityFactor?: number;
  readonly shiftIntensityProb?: number;
  readonly shiftIntensityOffset?: number;
  readonly adjustContrastProb?: number;
  readonly gammaMin?: number;
  readonly gammaMax?: number;
  readonly gaussianNoiseProb?: number;
  readonly gaussianNoiseStd?: number;
}

export const AUGMENTATION_PRESET_NNUNET = 1;

/**
 * nnU-Net's default training transforms, as far as voxelfeed has them: mirroring every axis with 0.5,
 * multiplicative brightness 0.75..1.25 with 0.15, gamma 0.7..1.5 with 0.3, Gaussian noise with 0.1 (std up to
 * 0.1 of the 0..1 range, MONAI's default std). nnU-Net rotates by small free angles, not quarter turns, and
 * has no additive shift, so the preset leaves those off.
 */
export const NNUNET_AUGMENTATION: Required<Omit<AugmentationInput, 'preset' | 'flipAxes'>> = {
  flipProb: 0.5,
  rotate90Prob: 0,
  scaleIntensityProb: 0.15,
  scaleIntensityFactor: 0.25,
  shiftIntensityProb: 0,
  shiftIntensityOffset: 0,
  adjustContrastProb: 0.3,
  gammaMin: 0.7,
  gammaMax: 1.5,
  gaussianNoiseProb: 0.1,
  gaussianNoiseStd: 0.1,
};

export const GAMMA_LIMITS = { min: 0.1, max: 10 } as const;

/**
 * Fills the preset's values into unset fields and checks every value, adding one message per problem to
 * `problems` (field, value, range and fix). Returns undefined when no transform can apply (every probability
 * 0), so such a request gives the same batches as one without augmentation.
 */
export function resolveAugmentationPolicy(
  input: AugmentationInput | undefined,
  problems: string[],
): AugmentationPolicy | undefined {
  if (input === undefined) return undefined;
  const preset = input.preset ?? 0;
  if (preset !== 0 && preset !== AUGMENTATION_PRESET_NNUNET) {
    problems.push(
      `sampling.augmentation.preset is ${preset}; use AUGMENTATION_PRESET_NONE (0) or AUGMENTATION_PRESET_NNUNET (1)`,
    );
  }
  const field = (name: keyof typeof NNUNET_AUGMENTATION): number => {
    const value = input[name] ?? 0;
    return value === 0 && preset === AUGMENTATION_PRESET_NNUNET ? NNUNET_AUGMENTATION[name] : value;
  };
  const checked = (name: keyof typeof NNUNET_AUGMENTATION, wire: string, min: number, max: number) => {
    const value = field(name);
    if (!Number.isFinite(value) || value < min || value > max) {
      problems.push(`sampling.augmentation.${wire} is ${value}; expected ${min}..${max}`);
      return 0;
    }
    return value;
  };
  const flipProb = checked('flipProb', 'flip_prob', 0, 1);
  const rotate90Prob = checked('rotate90Prob', 'rotate90_prob', 0, 1);
  const scaleProb = checked('scaleIntensityProb', 'scale_intensity_prob', 0, 1);
  const scaleFactor = checked('scaleIntensityFactor', 'scale_intensity_factor', 0, 1);
  const shiftProb = checked('shiftIntensityProb', 'shift_intensity_prob', 0, 1);
  const shiftOffset = checked('shiftIntensityOffset', 'shift_intensity_offset', 0, 1);
  const gammaProb = checked('adjustContrastProb', 'adjust_contrast_prob', 0, 1);
  const gammaMin = field('gammaMin');
  const gammaMax = field('gammaMax');
  const noiseProb = checked('gaussianNoiseProb', 'gaussian_noise_prob', 0, 1);
  const noiseStd = checked('gaussianNoiseStd', 'gaussian_noise_std', 0, 1);
  if (gammaProb > 0) {
    const inRange = (g: number) => Number.isFinite(g) && g >= GAMMA_LIMITS.min && g <= GAMMA_LIMITS.max;
    if (!inRange(gammaMin) || !inRange(gammaMax) || gammaMin > gammaMax) {
      problems.push(
        `sampling.augmentation.gamma_min ${gammaMin} and gamma_max ${gammaMax}: with adjust_contrast_prob ${gammaProb} ` +
          `both must be in ${GAMMA_LIMITS.min}..${GAMMA_LIMITS.max} with gamma_min <= gamma_max (nnU-Net: 0.7 and 1.5)`,
      );
    }
  }
  const flipAxes: [boolean, boolean, boolean] = [false, false, false];
  const axes = input.flipAxes ?? [];
  for (const axis of axes.length === 0 ? [0, 1, 2] : axes) {
    if (!Number.isInteger(axis) || axis < 0 || axis > 2) {
      problems.push(`sampling.augmentation.flip_axes holds ${axis}; axes are 0, 1 and 2 (empty: all three)`);
    } else {
      flipAxes[axis] = true;
    }
  }
  const anyApplies =
    (flipProb > 0 && flipAxes.some(Boolean)) ||
    rotate90Prob > 0 ||
    scaleProb > 0 ||
    shiftProb > 0 ||
    gammaProb > 0 ||
    noiseProb > 0;
  if (!anyApplies) return undefined;
  return {
    flipProb,
    flipAxes,
    rotate90Prob,
    gammaProb,
    gammaMin,
    gammaMax,
    scaleProb,
    scaleFactor,
    shiftProb,
    shiftOffset,
    noiseProb,
    noiseStd,
  };
}
