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

/**
 * Crop policy of one sample. Numeric values match the wire enum `voxelfeed.v1.CropMode`. `negative` is
 * anywhere in the volume (it may hold nodule voxels); `background` a negative found free of foreground.
 */
export type CropMode = 'jitter' | 'negative' | 'center' | 'background' | 'label';

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
  /** Transforms applied after cutting; absent: none (batches as before augmentation existed). */
  readonly augmentation?: AugmentationPolicy;
  /** Draws per negative to find a crop free of foreground; absent: negatives anywhere. */
  readonly backgroundMaxDraws?: number;
  /** At least ceil(share * batch size) nodule-centred samples per batch; absent: no such guarantee. */
  readonly foregroundShare?: number;
  /** Masks keep their label values instead of 0 and 1. */
  readonly keepLabels?: true;
  /** Weight of label c at index c (0: background): every sample is centred on a voxel of a drawn label. */
  readonly labelRatios?: readonly number[];
}

/**
 * Augmentation with defaults filled in and values checked: a probability per transform (0: never) and its
 * range. Ranges are the wire's float32 values.
 */
export interface AugmentationPolicy {
  readonly flipProb: number;
  /** Which of the axes 0, 1, 2 may be mirrored. */
  readonly flipAxes: readonly [boolean, boolean, boolean];
  readonly rotate90Prob: number;
  readonly gammaProb: number;
  readonly gammaMin: number;
  readonly gammaMax: number;
  readonly scaleProb: number;
  readonly scaleFactor: number;
  readonly shiftProb: number;
  readonly shiftOffset: number;
  readonly noiseProb: number;
  readonly noiseStd: number;
}

/** The transforms one sample gets, as drawn: plain data, echoed with the sample so any crop can be redone. */
export interface AugmentParams {
  readonly flip: readonly [boolean, boolean, boolean];
  /** Quarter turns 0..3 in the plane of axes 1 and 2, as np.rot90(crop, k, axes=(1, 2)). */
  readonly rotate90: number;
  /** Each a float32, or undefined when the transform is not applied. */
  readonly gamma: number | undefined;
  readonly scale: number | undefined;
  readonly shift: number | undefined;
  readonly noiseStd: number | undefined;
  /** The seed of the per-voxel noise (used when noiseStd is set). */
  readonly noiseSeed: number;
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
  /** Present when the request asked for augmentation. */
  readonly augment?: AugmentParams;
  /** For a negative when foreground is avoided: the origins drawn, and whether all of them held foreground. */
  readonly background?: { readonly draws: number; readonly missed: boolean };
  /** For a `label` sample: the label its centre voxel holds. */
  readonly label?: number;
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
  /** uint8 labels in the same layout: 0 background, 1..255 as in the mask file (integer masks). */
  readonly mask: Uint8Array;
  /**
   * Where the mask's non-zero voxels are: null for an all-zero mask, undefined when not computed. Most crops
   * miss every nodule, and with the box known their mask is one `fill(0)` instead of thousands of row copies.
   */
  readonly maskBox?: MaskBox | null;
  /** Where each label lies (computed at load); absent: computed when needed. */
  readonly labelIndex?: LabelIndex;
}

/**
 * Where each label of a mask lies, coarsely: per label above 0, the running count of its voxels over the
 * planes of axis 0 (`cumulative[x0]` voxels in planes 0..x0-1). Enough to find the r-th voxel of a label by
 * a binary search over planes and a scan of one plane, and small: 4 bytes per plane per label present.
 */
export interface LabelIndex {
  /** Labels above 0 present in the mask, ascending. */
  readonly labels: readonly number[];
  /** Per label in `labels`: n0 + 1 running counts. */
  readonly cumulative: ReadonlyMap<number, Uint32Array>;
}
