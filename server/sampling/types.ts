/**
 * Plain data shared by the pure sampling core and the layers above it. Nothing here does I/O.
 *
 * Axis convention (docs/determinism.md): index k of a shape, a centre or an origin is NRRD axis k.
 * Axis 0 is the fastest axis in the file; in memory a decoded volume is kept in C order
 * (axis 2 fastest), so `voxel(x0, x1, x2) = data[(x0 * n1 + x1) * n2 + x2]` and a crop row
 * along axis 2 is one contiguous run of bytes.
 */

export type Shape3 = readonly [number, number, number];
export type Vec3 = readonly [number, number, number];

/** Crop policy of one sample. Numeric values match the wire enum `voxelfeed.v1.CropMode`. */
export type CropMode = 'jitter' | 'negative' | 'center';

/** One nodule of a series: centre in voxel coordinates along NRRD axes 0, 1, 2 and its diameter in voxels. */
export interface Nodule {
  readonly center: Vec3;
  readonly diameter: number;
}

/** What the sampling core knows of a series: its id, shape and nodules, never its voxels. */
export interface SeriesSummary {
  readonly uid: string;
  readonly shape: Shape3;
  readonly nodules: readonly Nodule[];
}

/** Sampling options with every default filled in and every value checked. */
export interface SamplingPolicy {
  readonly jitterProb: number;
  readonly negativeProb: number;
  readonly centerProb: number;
  readonly samplesPerNodule: number;
  readonly negativesPerEpoch: number;
  /** Image value past the volume's edge, an integer 0..255 in stored voxel units. */
  readonly padValue: number;
  /** 0: shuffle the whole epoch; n: shuffle within windows of n series (cache-aware order). */
  readonly shuffleWindow: number;
}

export const DEFAULT_SAMPLING_POLICY: SamplingPolicy = {
  jitterProb: 0.5,
  negativeProb: 0.4,
  centerProb: 0.1,
  samplesPerNodule: 1,
  negativesPerEpoch: 0,
  padValue: 0,
  shuffleWindow: 0,
};

/** One entry of an epoch before shuffling: a nodule of a series, or a negative (nodule -1). */
export interface PlanItem {
  readonly series: number; // index into the catalog's series list
  readonly nodule: number; // index into that series' nodules, -1 for a negative item
}

/** Everything needed to cut one crop again: plain and serialisable, echoed with every sample. */
export interface CropParams {
  readonly index: number; // plan position in the epoch (global sample index)
  readonly item: number; // index of the PlanItem this sample comes from
  readonly series: number;
  readonly nodule: number; // -1 when the item is a negative
  readonly mode: CropMode;
  readonly origin: Vec3; // crop corner in volume voxels; may be negative or run past the edge
  readonly size: Shape3;
}

/** The smallest box holding every non-zero mask voxel: `lo` inclusive, `hi` exclusive, per axis. */
export interface MaskBox {
  readonly lo: Vec3;
  readonly hi: Vec3;
}

/** A decoded volume as the cache holds it: uint8 voxels in C order (axis 2 fastest). */
export interface Volume {
  readonly shape: Shape3;
  readonly image: Uint8Array;
  /** uint8 labels 0 or 1 in the same layout. */
  readonly mask: Uint8Array;
  /**
   * Where the mask's non-zero voxels are: null for an all-zero mask, undefined when not computed. Most crops
   * miss every nodule, and with the box known their mask is one `fill(0)` instead of thousands of row copies.
   */
  readonly maskBox?: MaskBox | null;
}
