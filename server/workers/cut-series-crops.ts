import { VoxelfeedError } from '../errors.js';
import {
  applySpatialAugmentation,
  augmentUint8Crop,
  isIntensity,
  isSpatial,
  writeAugmentedFloat32,
} from '../sampling/apply-augmentation.js';
import { countCropForeground } from '../sampling/count-crop-foreground.js';
import { cropHasForeground } from '../sampling/crop-has-foreground.js';
import { extractCrop } from '../sampling/extract-crop.js';
import { writeFloat32LE } from '../sampling/float-tensor.js';
import type { CropParams, Volume } from '../sampling/types.js';

/** Where a batch's crops go, and how they are cut: the same for every series of the batch. */
export interface CropTargets {
  /** The image field: `voxels` bytes per slot for uint8, 4 * `voxels` (little-endian floats) for float32. */
  readonly image: Uint8Array;
  /** null: no mask wanted. */
  readonly mask: Uint8Array | null;
  readonly voxels: number;
  readonly dtype: 'uint8' | 'float32';
  readonly padValue: number;
  readonly keepLabels: boolean;
}

/** This thread's bytes for one float32 crop, reused: every cut runs to its end before another starts. */
let cropScratch: Uint8Array | undefined;

/** A crop-long byte scratch of this thread, for a float32 crop cut before it is widened into its slot. */
export function floatCropScratch(voxels: number): Uint8Array {
  if (cropScratch?.length !== voxels) cropScratch = new Uint8Array(voxels);
  return cropScratch;
}

/**
 * Cuts the crops of one series into their slots of a batch: each crop, its mask, its mirror and turns and its
 * intensity transforms; returns the foreground voxels of each, in the order of `slots`. A float32 crop is cut
 * as bytes into `floatCropScratch` (which stays in the core's cache) and widened from there into its
 * slot, with its transforms. The main thread and the crop workers run this same function, so a batch's bytes
 * do not depend on where it was cut.
 */
export function cutSeriesCrops(
  volume: Volume,
  samples: readonly CropParams[],
  slots: readonly number[],
  targets: CropTargets,
): number[] {
  const { image, mask, voxels, dtype, padValue, keepLabels } = targets;
  return samples.map((sample, at) => {
    const offset = slots[at]! * voxels;
    const cropBytes = dtype === 'float32' ? floatCropScratch(voxels) : null;
    extractCrop(
      volume,
      { origin: sample.origin, size: sample.size, padValue, keepLabels },
      cropBytes === null ? { image, mask, offset } : { image: cropBytes, imageOffset: 0, mask, offset },
    );
    const foreground = countCropForeground(volume, sample.origin, sample.size);
    const augment = sample.augment;
    // Most crops' masks are all zeros, which no mirror or turn changes.
    if (mask !== null && augment !== undefined && isSpatial(augment)) {
      if (cropHasForeground(volume, sample.origin, sample.size)) {
        applySpatialAugmentation(augment, sample.size, mask, offset);
      }
    }
    const transform =
      augment !== undefined && (isSpatial(augment) || isIntensity(augment)) ? augment : undefined;
    if (cropBytes === null) {
      if (transform !== undefined) augmentUint8Crop(transform, sample.size, image, offset);
    } else {
      const slot = image.subarray(4 * offset, 4 * (offset + voxels));
      if (transform !== undefined) {
        writeAugmentedFloat32(transform, sample.size, cropBytes, floatsOf(slot, voxels));
      } else {
        writeFloat32LE(cropBytes, slot);
      }
    }
    return foreground;
  });
}

/** A slot's bytes as floats: the batch layout puts the image on a 4-byte boundary (encoded-batch.ts). */
function floatsOf(slot: Uint8Array, voxels: number): Float32Array {
  if (!PLATFORM_IS_LITTLE_ENDIAN || slot.byteOffset % 4 !== 0) {
    throw new VoxelfeedError(
      'INTERNAL',
      `augmented float32 crops need a little-endian host and an image on a 4-byte boundary, got byte offset ${slot.byteOffset}`,
    );
  }
  return new Float32Array(slot.buffer, slot.byteOffset, voxels);
}

const PLATFORM_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
