import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * A V-Net of depth d halves every axis d - 1 times and doubles it back, then concatenates each decoder level
 * with its encoder twin, so every side of the crop must be a multiple of 2^(d-1): otherwise the shapes of a
 * skip connection and its up-convolution disagree deep inside the network, with an error that names neither.
 */
export function checkCropDivisible(spatialShape: readonly number[], depth: number): void {
  const factor = 2 ** (depth - 1);
  const crop = spatialShape.join('x');
  const bad = spatialShape.flatMap((side, axis) => (side % factor === 0 && side > 0 ? [] : [axis]));
  if (bad.length === 0) return;
  const fixed = spatialShape.map((side) => Math.max(factor, Math.ceil(side / factor) * factor));
  throw new VoxelfeedError(
    'INVALID_ARGUMENT',
    `crop ${crop} is not divisible by ${factor} (2^(depth-1) for depth ${depth}) on axis ${bad.join(', ')}; ` +
      `use a crop whose sides are multiples of ${factor}, e.g. --crop ${fixed.join(',')}, or lower the depth`,
  );
}
