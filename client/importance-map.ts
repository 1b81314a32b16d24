import { FeedError } from './feed-error.js';
import { checkShape, type Shape3 } from './shape3.js';

/**
 * How overlapping tiles are weighted: `gaussian` (nnU-Net's predictor, the default) trusts a tile's centre
 * more than its border, where the network saw the least context; `constant` is the plain average (MONAI's
 * `sliding_window_inference` default).
 */
export type TileWeighting = 'gaussian' | 'constant';

export const TILE_WEIGHTINGS: readonly TileWeighting[] = ['gaussian', 'constant'];

/** sigma = tile size / 8 per axis, as nnU-Net. */
export const GAUSSIAN_SIGMA_SCALE = 1 / 8;
/** scipy.ndimage.gaussian_filter's default: its kernel ends at 4 sigma (then zeros). */
const TRUNCATE_SIGMAS = 4;

/**
 * The weight of each voxel of a tile, float32 in C order (t0 * t1 * t2 values): all 1 for `constant`;
 * for `gaussian`, nnU-Net's map: a delta at voxel T // 2 of each axis filtered by a Gaussian of sigma = T / 8
 * per axis (scipy's gaussian_filter, mode constant, truncated at 4 sigma), scaled to a maximum of 1, its zeros
 * replaced by the smallest non-zero value so that every voxel a tile covers has weight > 0.
 *
 * Why separably: a 3-D Gaussian kernel is the product of three 1-D kernels, and filtering a delta returns the
 * kernel itself, centred on the delta. So the filtered delta is the outer product of three 1-D kernels, and the
 * map costs t0 + t1 + t2 exponentials instead of a 3-D convolution. Each 1-D profile is divided by its centre
 * value (its maximum), so the product peaks at exactly 1 at the centre: the scale nnU-Net divides by.
 */
export function importanceMap(tileShape: Shape3, weighting: TileWeighting = 'gaussian'): Float32Array {
  checkTileShape(tileShape);
  const [t0, t1, t2] = tileShape;
  const map = new Float32Array(t0 * t1 * t2);
  if (weighting === 'constant') return map.fill(1);
  if (weighting !== 'gaussian') {
    const details = `weighting is ${JSON.stringify(weighting)}; use 'gaussian' (nnU-Net) or 'constant' (plain average)`;
    throw new FeedError('INVALID_ARGUMENT', details, `importance map: ${details}`);
  }
  const [p0, p1, p2] = [gaussianProfile(t0), gaussianProfile(t1), gaussianProfile(t2)];
  let smallest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < t0; i++) {
    for (let j = 0; j < t1; j++) {
      const row = (i * t1 + j) * t2;
      const outer = p0[i]! * p1[j]!;
      for (let k = 0; k < t2; k++) {
        const value = Math.fround(outer * p2[k]!);
        map[row + k] = value;
        if (value > 0 && value < smallest) smallest = value;
      }
    }
  }
  // Never taken for sigma = T / 8 (the truncated kernel still reaches every voxel and the float32 product of
  // three profiles stays above its smallest normal value); kept so that the map is nnU-Net's by definition.
  for (let v = 0; v < map.length; v++) if (map[v] === 0) map[v] = smallest;
  return map;
}

/**
 * One axis of the Gaussian map (float64, `size` values, maximum 1 at index size // 2): scipy's 1-D kernel
 * for sigma = size / 8, exp(-d^2 / (2 sigma^2)) at distance d from the centre and 0 beyond
 * int(4 sigma + 0.5), divided by its centre value (scipy's normalisation to sum 1 cancels in the scaling to
 * max 1).
 */
export function gaussianProfile(size: number): Float64Array {
  const sigma = size * GAUSSIAN_SIGMA_SCALE;
  const radius = Math.trunc(TRUNCATE_SIGMAS * sigma + 0.5);
  const centre = Math.floor(size / 2);
  const profile = new Float64Array(size);
  for (let x = 0; x < size; x++) {
    const d = x - centre;
    profile[x] = Math.abs(d) > radius ? 0 : Math.exp((-0.5 * d * d) / (sigma * sigma));
  }
  return profile;
}

/** Throws INVALID_ARGUMENT naming `tileShape` unless it is three integers >= 1. */
export function checkTileShape(tileShape: Shape3): void {
  checkShape('tile shape', tileShape, 'e.g. [16, 96, 96]');
}
