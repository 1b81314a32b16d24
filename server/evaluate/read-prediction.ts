import { readNrrdHeaderFile } from '../dataset/nrrd/nrrd-header.js';
import { readNrrdVolume } from '../dataset/nrrd/nrrd-reader.js';
import { spatialAxes, spatialShape } from '../dataset/nrrd/spatial-shape.js';
import { voxelSpacing } from '../dataset/nrrd/voxel-spacing.js';
import { VoxelfeedError } from '../errors.js';
import type { Shape3, Vec3 } from '../sampling/types.js';
import type { PredictionKind } from './evaluate-series.js';

/** The header key/value line that says how a prediction's values read. */
export const KIND_KEY = 'voxelfeed_kind';

export interface Prediction {
  readonly kind: PredictionKind;
  /** uint8 in file order (axis 0 fastest): round(255 p) for probabilities, 0/1 for a mask. */
  readonly values: Uint8Array;
  /** From the prediction's own header, for when the image's gives none. */
  readonly spacing: Vec3 | null;
}

/**
 * Reads a `<uid>_pred.nrrd`, refusing it (with both shapes named) before any voxel is read when its shape is
 * not the image's. Its `voxelfeed_kind` says how values read: `probability` (uint8 round(255 p)) or `mask`
 * (0/1). Without that line, as from another tool: uint8 values of at most 1 are a mask, other uint8 values
 * probabilities times 255, and floating-point values probabilities 0..1 (converted to round(255 p)).
 */
export async function readPrediction(file: string, expected: Shape3, imagePath: string): Promise<Prediction> {
  const header = await readNrrdHeaderFile(file);
  const axes = spatialAxes(header.sizes, header.kinds, file);
  const shape = spatialShape(header.sizes, header.kinds, file);
  if (shape[0] !== expected[0] || shape[1] !== expected[1] || shape[2] !== expected[2]) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `${file} has shape ${shape.join('x')} but the image ${imagePath} has ${expected.join('x')}; predict this series again from its image`,
    );
  }
  const stated = header.keyValues.get(KIND_KEY)?.trim();
  if (stated !== undefined && stated !== 'probability' && stated !== 'mask') {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `${file}: "${KIND_KEY}:=${stated}" is neither probability nor mask; write one of them`,
    );
  }
  const volume = await readNrrdVolume(file);
  const spacing = voxelSpacing(header, axes);
  const { data } = volume;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const values = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const p = data[i]!;
      values[i] = p > 0 ? (p >= 1 ? 255 : Math.round(255 * p)) : 0;
    }
    return { kind: stated ?? 'probability', values, spacing };
  }
  if (!(data instanceof Uint8Array)) {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `${file} holds ${volume.type} values; a prediction is uint8 (round(255 p), or a 0/1 mask) or float 0..1`,
    );
  }
  if (stated !== undefined) return { kind: stated, values: data, spacing };
  let max = 0;
  for (let i = 0; i < data.length && max <= 1; i++) if (data[i]! > max) max = data[i]!;
  return { kind: max <= 1 ? 'mask' : 'probability', values: data, spacing };
}

/** A true mask in file order as 0/1 bytes: any value above 0 is nodule, as the server reads masks. */
export async function readTruthMask(file: string): Promise<Uint8Array> {
  const { data } = await readNrrdVolume(file);
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! > 0 ? 1 : 0;
  return out;
}
