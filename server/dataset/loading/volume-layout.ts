import { VoxelfeedError } from '../../errors.js';
import { indexLabels } from '../../sampling/label-index.js';
import { findMaskBox } from '../../sampling/mask-box.js';
import type { Shape3, Volume } from '../../sampling/types.js';
import type { RawVolume } from '../nrrd/nrrd-reader.js';
import type { VoxelArray } from '../nrrd/nrrd-type.js';
import { runInSlabs } from '../run-in-slabs.js';
import { transposeToCOrder } from './transpose-volume.js';

/** Values per conversion slab between event-loop yields: well under a millisecond each. */
const SLAB_VALUES = 1 << 19;

/**
 * Turns an image and its mask as read from disk into the cache's layout: uint8, C order (axis 2 fastest).
 *
 * - The image becomes uint8. The LUNA16 preprocessed layout stores uint8 0..255 already, which is copied as
 *   is; any other type is rounded to the nearest integer (ties to even) and clamped to 0..255, NaN -> 0, so
 *   a Hounsfield-unit or float volume must be windowed to 0..255 before it is served.
 * - The mask becomes uint8 labels: integers are clamped to 0..255 (labels kept; crops turn them into 0/1
 *   unless a request keeps labels), floats become 1 where > 0 and 0 elsewhere (0, negatives, NaN).
 * - Both are transposed from file order `in[x0 + n0*(x1 + n1*x2)]` to `out[(x0*n1 + x1)*n2 + x2]`.
 * All work runs in slabs with yields between them, so the event loop is never held for long.
 */
export async function toServedVolume(
  image: RawVolume,
  mask: RawVolume,
  imagePath: string,
  maskPath: string,
): Promise<Volume> {
  if (!sameShape(image.sizes, mask.sizes)) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `image ${imagePath} has shape ${image.sizes.join('x')} but mask ${maskPath} has ${mask.sizes.join('x')}; a mask must have its image's shape`,
    );
  }
  checkLength(image, imagePath);
  checkLength(mask, maskPath);
  const imageBytes = await imageToUint8(image.data);
  const maskBytes = await maskToUint8(mask.data);
  const shape: Shape3 = [image.sizes[0], image.sizes[1], image.sizes[2]];
  const served = {
    shape,
    image: await transposeToCOrder(imageBytes, shape),
    mask: await transposeToCOrder(maskBytes, shape),
  };
  const maskBox = findMaskBox(served.mask, shape);
  return { ...served, maskBox, labelIndex: indexLabels(served.mask, shape, maskBox) };
}

function sameShape(a: Shape3, b: Shape3): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

function checkLength(volume: RawVolume, source: string): void {
  const voxels = volume.sizes[0] * volume.sizes[1] * volume.sizes[2];
  if (volume.data.length !== voxels) {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${source}: holds ${volume.data.length} voxels but its shape ${volume.sizes.join('x')} needs ${voxels}`,
    );
  }
}

/** uint8 as it is; other types rounded (ties to even) and clamped to 0..255 by Uint8ClampedArray's native `set`. */
async function imageToUint8(data: VoxelArray): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  const clamped = new Uint8ClampedArray(data.length);
  await runInSlabs(data.length, SLAB_VALUES, (start, end) => clamped.set(data.subarray(start, end), start));
  return new Uint8Array(clamped.buffer);
}

/**
 * uint8 labels: integers go through the clamped conversion (1..255 stay, larger become 255, negatives 0);
 * floats need a comparison, since the clamped conversion would round 0.3 down to 0.
 */
async function maskToUint8(data: VoxelArray): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) return imageToUint8(data);
  const out = new Uint8Array(data.length);
  await runInSlabs(data.length, SLAB_VALUES, (start, end) => {
    for (let i = start; i < end; i++) out[i] = data[i]! > 0 ? 1 : 0;
  });
  return out;
}
