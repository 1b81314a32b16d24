import type { SampleInfoView } from '@voxelfeed/client';

/**
 * What a preview draws: samples of one StreamBatches step, or one sample fetched by plan position
 * (GetSample), always with its mask. Tensors are uint8 in C order `[B, s0, s1, s2]`.
 */
export interface PreviewBatch {
  /** The step, or null for a sample fetched by plan position. */
  readonly step: number | null;
  readonly stepsInEpoch: number;
  readonly shape: readonly [number, number, number, number];
  readonly image: Uint8Array;
  readonly mask: Uint8Array;
  readonly samples: readonly SampleInfoView[];
}

/** The crop size `[s0, s1, s2]` of a batch. */
export function cropOf(batch: Pick<PreviewBatch, 'shape'>): [number, number, number] {
  const [, s0, s1, s2] = batch.shape;
  return [s0, s1, s2];
}

/** Views (no copies) of one slice of one sample: its voxels and its mask. */
export function sliceOf(
  batch: Pick<PreviewBatch, 'shape' | 'image' | 'mask'>,
  sample: number,
  z: number,
): { voxels: Uint8Array; mask: Uint8Array } {
  const [b, s0, s1, s2] = batch.shape;
  if (!Number.isInteger(sample) || sample < 0 || sample >= b || !Number.isInteger(z) || z < 0 || z >= s0) {
    throw new RangeError(`slice ${z} of sample ${sample} is outside a batch of ${b} crops of ${s0} slices`);
  }
  const plane = s1 * s2;
  const start = (sample * s0 + z) * plane;
  return {
    voxels: batch.image.subarray(start, start + plane),
    mask: batch.mask.subarray(start, start + plane),
  };
}

/** The number of the sample's crop voxels whose mask is set (padding is background). */
export function foregroundVoxels(batch: Pick<PreviewBatch, 'shape' | 'mask'>, sample: number): number {
  const [, s0, s1, s2] = batch.shape;
  const size = s0 * s1 * s2;
  let count = 0;
  for (const value of batch.mask.subarray(sample * size, (sample + 1) * size)) if (value !== 0) count++;
  return count;
}
