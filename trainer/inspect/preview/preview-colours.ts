import type { Rgb } from '../image/rgba-image.js';

/**
 * The colours of a preview. The overlays are saturated, never grey, so no voxel's grey level can be taken for
 * them (and tests can tell them apart from voxels).
 */
export const PREVIEW_COLOURS = {
  /** The mask's contour. */
  contour: [255, 48, 48],
  /** The cross on the nodule's centre. */
  centre: [0, 224, 255],
  /** Between tiles and behind captions. */
  background: [24, 24, 32],
} as const satisfies Record<string, Rgb>;
