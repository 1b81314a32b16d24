import { VoxelfeedError } from '../errors.js';
import {
  AugmentScratch,
  isIntensity,
  isSpatial,
  writeAugmentedFloat32,
} from '../sampling/apply-augmentation.js';
import { writeFloat32LE } from '../sampling/float-tensor.js';
import type { CropParams } from '../sampling/types.js';
import type { ScratchHolder } from './cut-series-crops.js';

/**
 * float32 crops from the bytes cut into the last quarter of the image field, front to back: v / 255, or the
 * sample's transforms where it has some (each sample's bytes copied aside first, as a transformed crop reads
 * them out of order). Float i (bytes 4i..4i+3) never reaches a voxel byte (at 3n + j, j >= i) still to be
 * read, so this runs once per batch after every cut, in slot order.
 */
export function widenFloat32(
  params: readonly CropParams[],
  bytes: Uint8Array,
  image: Uint8Array,
  voxels: number,
  holder: ScratchHolder,
): void {
  const augmented = (sample: CropParams) =>
    sample.augment !== undefined && (isSpatial(sample.augment) || isIntensity(sample.augment));
  if (!params.some(augmented)) {
    writeFloat32LE(bytes, image);
    return;
  }
  if (!PLATFORM_IS_LITTLE_ENDIAN || image.byteOffset % 4 !== 0) {
    throw new VoxelfeedError(
      'INTERNAL',
      'augmented float32 crops need a little-endian host and an aligned image',
    );
  }
  if (holder.scratch?.voxels !== voxels) holder.scratch = new AugmentScratch(voxels);
  const aside = holder.scratch;
  params.forEach((sample, slot) => {
    const source = bytes.subarray(slot * voxels, (slot + 1) * voxels);
    const target = image.subarray(slot * voxels * 4, (slot + 1) * voxels * 4);
    if (sample.augment !== undefined && augmented(sample)) {
      const floats = new Float32Array(target.buffer, target.byteOffset, voxels);
      writeAugmentedFloat32(sample.augment, sample.size, source, floats, aside);
    } else {
      writeFloat32LE(source, target);
    }
  });
}

const PLATFORM_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
