import type { Nodule, Shape3, Vec3 } from '../sampling/types.js';
import { connectedComponents } from './connected-components.js';
import { dice, type OverlapCounts, overlapCounts } from './dice.js';
import { type Candidate, matchNodules } from './match-nodules.js';

/** How a prediction file's uint8 values read: round(255 p), or a mask of 0/1. */
export type PredictionKind = 'probability' | 'mask';

export interface SeriesInput {
  readonly uid: string;
  /** NRRD sizes (axis 0 first). */
  readonly shape: Shape3;
  /** The true mask in file order (axis 0 fastest), non-zero = nodule. */
  readonly truth: ArrayLike<number>;
  /** The prediction in file order: uint8 values read as `kind` says. */
  readonly prediction: ArrayLike<number>;
  readonly kind: PredictionKind;
  /** Probabilities >= threshold are foreground (a mask's 1s always are). */
  readonly threshold: number;
  readonly nodules: readonly Nodule[];
  /** Voxel size per NRRD axis, or null: distances then in voxels. */
  readonly spacing: Vec3 | null;
}

export interface SeriesEvaluation {
  readonly uid: string;
  readonly dice: number | null;
  readonly overlap: OverlapCounts;
  readonly nodules: number;
  readonly found: number;
  readonly falsePositives: number;
  /** Components of the thresholded prediction. */
  readonly components: number;
  readonly distance: 'mm' | 'voxels';
  readonly noduleScores: readonly (number | null)[];
  readonly falsePositiveScores: readonly number[];
}

/** The smallest uint8 value v whose probability v/255 is at least `threshold` (256: none). */
export function probabilityCutoff(threshold: number): number {
  for (let value = 0; value <= 255; value++) if (value / 255 >= threshold) return value;
  return 256;
}

/**
 * Dice, nodules found and false positives of one series. The volumes are in file order (axis 0 fastest),
 * which is C order for the reversed shape; 26-connectivity does not depend on the order of the axes, so the
 * components are found in that layout and their centres reversed back to NRRD axes 0, 1, 2.
 */
export function evaluateSeries(input: SeriesInput): SeriesEvaluation {
  const { shape, prediction, kind } = input;
  const cutoff = kind === 'mask' ? 1 : probabilityCutoff(input.threshold);
  const binary = new Uint8Array(prediction.length);
  for (let i = 0; i < binary.length; i++) binary[i] = prediction[i]! >= cutoff ? 1 : 0;
  const overlap = overlapCounts(binary, input.truth);
  const { components } = connectedComponents(binary, [shape[2], shape[1], shape[0]], {
    scores: prediction,
  });
  const candidates: Candidate[] = components.map((component) => ({
    centroid: [component.centroid[2], component.centroid[1], component.centroid[0]],
    // A mask says nothing of confidence: every component scores 1.
    score: kind === 'mask' ? 1 : component.maxScore / 255,
  }));
  const matches = matchNodules(input.nodules, candidates, input.spacing);
  return {
    uid: input.uid,
    dice: dice(overlap),
    overlap,
    nodules: input.nodules.length,
    found: matches.noduleScores.filter((score) => score !== null).length,
    falsePositives: matches.falsePositiveScores.length,
    components: components.length,
    distance: matches.distance,
    noduleScores: matches.noduleScores,
    falsePositiveScores: matches.falsePositiveScores,
  };
}
