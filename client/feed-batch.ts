import { type AugmentationInfo, type Batch, CropMode, DType, type SampleInfo } from '@voxelfeed/proto';
import { FeedError } from './feed-error.js';

export type TensorDType = 'uint8' | 'float32';
/**
 * `negative`: anywhere in the volume; `background`: a negative found free of foreground (avoidForeground);
 * `label`: centred on a voxel of `label` (labelRatios).
 */
export type SampleMode = 'jitter' | 'negative' | 'center' | 'background' | 'label';

/** The transforms one sample got (SampleInfo.augmentation); absent values: not applied. */
export interface AugmentationView {
  /** Mirrored axes, ascending (np.flip on each). */
  readonly flippedAxes: readonly number[];
  /** Quarter turns in the plane of axes 1 and 2, as np.rot90(crop, k, axes=(1, 2)); 0: none. */
  readonly rotate90: number;
  readonly gamma?: number;
  readonly scale?: number;
  readonly shift?: number;
  readonly noiseStd?: number;
  /** The seed of the per-voxel noise when noiseStd is set. */
  readonly noiseSeed: number;
}

/** What the server echoes for each sample, so any crop can be cut again (`getSample` with `index`). */
export interface SampleInfoView {
  /** Plan position in the epoch (global sample index). */
  readonly index: number;
  readonly seriesUid: string;
  readonly mode: SampleMode;
  /** Crop corner in volume voxels, NRRD axis order; may be negative (padded). */
  readonly origin: readonly [number, number, number];
  /** The nodule this item was drawn for, -1 for a negative item. */
  readonly nodule: number;
  /** The nodule's centre in voxels, NRRD axis order; empty for a negative item. */
  readonly noduleCenter: readonly number[];
  readonly noduleDiameter: number;
  /** Index of the epoch item (before shuffling) this sample comes from. */
  readonly item: number;
  /** The crop's voxels with a non-zero mask value, counted by the server whether or not the mask was sent. */
  readonly foregroundVoxels: number;
  /** Present when the request asked for augmentation. */
  readonly augmentation?: AugmentationView;
  /** Present for a negative when the request avoided foreground: origins drawn, and whether all held some. */
  readonly background?: { readonly draws: number; readonly missed: boolean };
  /** For a `label` sample: the label of its centre voxel. */
  readonly label?: number;
}

/**
 * One batch as a trainer uses it: tensors as typed views over the received message, C order
 * `[B, s0, s1, s2]`, and plain numbers instead of the wire's 64-bit integers.
 */
export interface FeedBatch {
  readonly epoch: number;
  readonly step: number;
  readonly stepsInEpoch: number;
  readonly rank: number;
  readonly worldSize: number;
  /** `[B, s0, s1, s2]`, crop axes in NRRD axis order. */
  readonly shape: readonly [number, number, number, number];
  readonly dtype: TensorDType;
  /** `B * s0 * s1 * s2` values: stored voxels (uint8) or voxel / 255 (float32). */
  readonly image: Uint8Array | Float32Array;
  /** uint8 0/1, same length as `image`; null when the request did not ask for masks. */
  readonly mask: Uint8Array | null;
  readonly samples: readonly SampleInfoView[];
  /** Size of the encoded message, for throughput figures. */
  readonly wireBytes: number;
}

/**
 * Builds a FeedBatch from the decoded metadata of a `Batch` and its tensor bytes, checking that the tensors
 * have the size the shape and dtype promise (a mismatch is DATA_LOSS: the message cannot be trusted).
 * `image` must already be the typed array for the dtype; see `decodeBatch`.
 */
export function toFeedBatch(
  header: Batch,
  image: Uint8Array | Float32Array,
  mask: Uint8Array,
  wireBytes: number,
): FeedBatch {
  const dtype = tensorDType(header.dtype);
  const [b, s0, s1, s2, ...extra] = header.shape;
  if (b === undefined || s0 === undefined || s1 === undefined || s2 === undefined || extra.length > 0) {
    throw dataLoss(`batch shape is [${header.shape.join(', ')}]; expected [B, s0, s1, s2]`);
  }
  const voxels = b * s0 * s1 * s2;
  if (image.length !== voxels) {
    throw dataLoss(
      `batch image holds ${image.length} ${dtype} values; shape [${header.shape}] needs ${voxels}`,
    );
  }
  if (mask.length !== 0 && mask.length !== voxels) {
    throw dataLoss(`batch mask holds ${mask.length} bytes; shape [${header.shape}] needs ${voxels}`);
  }
  if (header.samples.length !== b) {
    throw dataLoss(`batch has ${header.samples.length} sample infos for a batch of ${b}`);
  }
  return {
    epoch: header.epoch,
    step: safeNumber(header.step, 'step'),
    stepsInEpoch: safeNumber(header.stepsInEpoch, 'steps_in_epoch'),
    rank: header.rank,
    worldSize: header.worldSize === 0 ? 1 : header.worldSize,
    shape: [b, s0, s1, s2],
    dtype,
    image,
    mask: mask.length === 0 ? null : mask,
    samples: header.samples.map(toSampleInfoView),
    wireBytes,
  };
}

export function tensorDType(wire: DType): TensorDType {
  if (wire === DType.DTYPE_UNSPECIFIED || wire === DType.DTYPE_UINT8) return 'uint8';
  if (wire === DType.DTYPE_FLOAT32) return 'float32';
  throw dataLoss(`batch dtype is ${wire}; this client knows DTYPE_UINT8 (1) and DTYPE_FLOAT32 (2)`);
}

const MODES: Partial<Record<CropMode, SampleMode>> = {
  [CropMode.CROP_MODE_JITTER]: 'jitter',
  [CropMode.CROP_MODE_NEGATIVE]: 'negative',
  [CropMode.CROP_MODE_CENTER]: 'center',
  [CropMode.CROP_MODE_BACKGROUND]: 'background',
  [CropMode.CROP_MODE_LABEL]: 'label',
};

function toSampleInfoView(info: SampleInfo): SampleInfoView {
  const mode = MODES[info.mode];
  if (mode === undefined) throw dataLoss(`sample ${info.index} has crop mode ${info.mode}`);
  const [o0, o1, o2, ...extra] = info.origin;
  if (o0 === undefined || o1 === undefined || o2 === undefined || extra.length > 0) {
    throw dataLoss(`sample ${info.index} has origin [${info.origin.join(', ')}]; expected 3 values`);
  }
  return {
    index: safeNumber(info.index, 'sample index'),
    seriesUid: info.seriesUid,
    mode,
    origin: [o0, o1, o2],
    nodule: info.nodule,
    noduleCenter: info.noduleCenter,
    noduleDiameter: info.noduleDiameter,
    item: safeNumber(info.item, 'sample item'),
    foregroundVoxels: safeNumber(info.foregroundVoxels, 'sample foreground_voxels'),
    ...(info.augmentation === undefined ? {} : { augmentation: toAugmentationView(info.augmentation) }),
    ...(info.backgroundDraws === 0
      ? {}
      : { background: { draws: info.backgroundDraws, missed: info.backgroundMissed } }),
    ...(mode === 'label' ? { label: info.label } : {}),
  };
}

function toAugmentationView(info: AugmentationInfo): AugmentationView {
  return {
    flippedAxes: info.flippedAxes,
    rotate90: info.rotate90,
    ...(info.gamma === undefined ? {} : { gamma: info.gamma }),
    ...(info.scale === undefined ? {} : { scale: info.scale }),
    ...(info.shift === undefined ? {} : { shift: info.shift }),
    ...(info.noiseStd === undefined ? {} : { noiseStd: info.noiseStd }),
    noiseSeed: info.noiseSeed,
  };
}

function safeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw dataLoss(`batch ${field} is ${value}, beyond the integers a number holds exactly`);
  }
  return Number(value);
}

function dataLoss(details: string): FeedError {
  return new FeedError('DATA_LOSS', details, `malformed batch: ${details}`);
}
