import { SamplingOptions } from '../../gen/voxelfeed/v1/voxelfeed.js';

/**
 * Every sampling option a crop can depend on at once: augmentation of every kind, kept labels, label-centred
 * and clean negative crops (for a data set with several mask labels, e.g. a phantom with `labels: 3`).
 */
export const EVERY_SAMPLING_OPTION = SamplingOptions.fromPartial({
  jitterProb: 0.3,
  negativeProb: 0.4,
  centerProb: 0.3,
  samplesPerNodule: 2,
  negativesPerEpoch: 10,
  padValue: 11,
  avoidForeground: true,
  backgroundMaxDraws: 16,
  keepLabels: true,
  labelRatios: [1, 2, 1, 3],
  augmentation: {
    flipProb: 0.5,
    rotate90Prob: 0.5,
    scaleIntensityProb: 0.4,
    scaleIntensityFactor: 0.3,
    shiftIntensityProb: 0.4,
    shiftIntensityOffset: 0.1,
    adjustContrastProb: 0.4,
    gammaMin: 0.7,
    gammaMax: 1.5,
    gaussianNoiseProb: 0.4,
    gaussianNoiseStd: 0.1,
  },
});
