import type { Nodule, Vec3 } from '../sampling/types.js';

/** A detection: a component's centre (NRRD axes 0, 1, 2, in voxels) and its score, 0..1. */
export interface Candidate {
  readonly centroid: Vec3;
  readonly score: number;
}

export interface NoduleMatches {
  /** Per nodule, in the given order: the highest score among the candidates within its radius, or null. */
  readonly noduleScores: readonly (number | null)[];
  /** The scores of the candidates within the radius of no nodule: the false positives. */
  readonly falsePositiveScores: readonly number[];
  /** How distances were measured: millimetres with a spacing, voxels without. */
  readonly distance: 'mm' | 'voxels';
}

/**
 * Matches candidates to nodules as the LUNA16 evaluation does: a nodule is found when a candidate's centre lies
 * strictly within its radius (d/2) of the nodule's centre; it then counts once, with the highest score of the
 * candidates on it, and none of those is a false positive (a candidate within two nodules' radii counts for
 * both). Every other candidate is a false positive.
 *
 * Centres and diameters are in voxels. With a spacing (voxel size per axis, e.g. from the NRRD header) the
 * distance is measured in millimetres, and the radius too: d/2 voxels of the mean voxel edge (the cube root of
 * the voxel's volume), which is exact for isotropic voxels as in LUNA16's resampled scans.
 */
export function matchNodules(
  nodules: readonly Nodule[],
  candidates: readonly Candidate[],
  spacing: Vec3 | null,
): NoduleMatches {
  const scale: Vec3 = spacing ?? [1, 1, 1];
  const edge = Math.cbrt(scale[0] * scale[1] * scale[2]);
  const matched = new Uint8Array(candidates.length);
  const noduleScores = nodules.map((nodule) => {
    const radius = (nodule.diameter / 2) * edge;
    let best: number | null = null;
    candidates.forEach((candidate, index) => {
      let squared = 0;
      for (let axis = 0; axis < 3; axis++) {
        const delta = (candidate.centroid[axis]! - nodule.center[axis]!) * scale[axis]!;
        squared += delta * delta;
      }
      if (squared < radius * radius) {
        matched[index] = 1;
        if (best === null || candidate.score > best) best = candidate.score;
      }
    });
    return best;
  });
  const falsePositiveScores = candidates.filter((_, index) => matched[index] === 0).map((c) => c.score);
  return { noduleScores, falsePositiveScores, distance: spacing === null ? 'voxels' : 'mm' };
}
