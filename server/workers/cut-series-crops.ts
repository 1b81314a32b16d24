import {
  AugmentScratch,
  applySpatialAugmentation,
  augmentUint8Crop,
  isIntensity,
  isSpatial,
} from '../sampling/apply-augmentation.js';
import { countCropForeground } from '../sampling/count-crop-foreground.js';
import { cropHasForeground } from '../sampling/crop-has-foreground.js';
import { extractCrop } from '../sampling/extract-crop.js';
import type { CropParams, Volume } from '../sampling/types.js';

/** Where a batch's crops go, and how they are cut: the same for every series of the batch. */
export interface CropTargets {
  /** uint8 crops, `voxels` per slot (for float32 batches, the bytes widened afterwards: widenFloat32). */
  readonly image: Uint8Array;
  /** null: no mask wanted. */
  readonly mask: Uint8Array | null;
  readonly voxels: number;
  readonly dtype: 'uint8' | 'float32';
  readonly padValue: number;
  readonly keepLabels: boolean;
}

/** The augmentation scratch a thread reuses from batch to batch, made when first needed (and per crop size). */
export interface ScratchHolder {
  scratch: AugmentScratch | undefined;
}

/**
 * Cuts the crops of one series into their slots of a batch: each crop, its mask, its mirror and turns and
 * (for uint8) its intensity transforms; returns the foreground voxels of each, in the order of `slots`.
 * The main thread and the crop workers run this same function, so a batch's bytes do not depend on where it
 * was cut.
 */
export function cutSeriesCrops(
  volume: Volume,
  samples: readonly CropParams[],
  slots: readonly number[],
  targets: CropTargets,
  holder: ScratchHolder,
): number[] {
  const { image, mask, voxels, dtype, padValue, keepLabels } = targets;
  return samples.map((sample, at) => {
    const offset = slots[at]! * voxels;
    extractCrop(
      volume,
      { origin: sample.origin, size: sample.size, padValue, keepLabels },
      { image, mask, offset },
    );
    const foreground = countCropForeground(volume, sample.origin, sample.size);
    const augment = sample.augment;
    if (augment === undefined) return foreground;
    if (holder.scratch?.voxels !== voxels) holder.scratch = new AugmentScratch(voxels);
    // Most crops' masks are all zeros, which no mirror or turn changes.
    if (mask !== null && isSpatial(augment) && cropHasForeground(volume, sample.origin, sample.size)) {
      applySpatialAugmentation(augment, sample.size, mask, offset, holder.scratch);
    }
    // float32 images are transformed as they are widened, after every cut.
    if (dtype === 'uint8' && (isSpatial(augment) || isIntensity(augment))) {
      augmentUint8Crop(augment, sample.size, image, offset, holder.scratch);
    }
    return foreground;
  });
}
