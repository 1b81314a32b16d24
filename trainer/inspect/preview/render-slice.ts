import { fillRect, type RgbaImage } from '../image/rgba-image.js';
import { maskContour } from './mask-contour.js';
import { PREVIEW_COLOURS } from './preview-colours.js';

/** Voxels each arm of the centre cross reaches from the centre voxel. */
export const CROSS_ARM_VOXELS = 2;

export interface SliceDrawing {
  /** `rows * cols` grey levels (uint8 voxels), C order. */
  readonly voxels: Uint8Array;
  /** The mask of the same slice, or null: no contour. */
  readonly mask: Uint8Array | null;
  readonly rows: number;
  readonly cols: number;
  /** Pixels per voxel side. */
  readonly scale: number;
  /** The nodule's centre voxel on this slice, or null: no cross. */
  readonly centre: { readonly row: number; readonly col: number } | null;
}

/**
 * Draws one slice with its top-left corner at (x, y): each voxel a `scale` x `scale` block of its grey level,
 * the mask's contour over it in the contour colour, and a small cross on the nodule's centre in the centre
 * colour (arms of CROSS_ARM_VOXELS voxels, a third of a voxel thick).
 */
export function renderSlice(image: RgbaImage, x: number, y: number, slice: SliceDrawing): void {
  const { voxels, rows, cols, scale } = slice;
  const contour = slice.mask === null ? null : maskContour(slice.mask, rows, cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const at = r * cols + c;
      const grey = voxels[at]!;
      const colour = contour?.[at] === 1 ? PREVIEW_COLOURS.contour : ([grey, grey, grey] as const);
      fillRect(image, x + c * scale, y + r * scale, scale, scale, colour);
    }
  }
  if (slice.centre !== null) {
    const thick = Math.max(1, Math.round(scale / 3));
    const arm = CROSS_ARM_VOXELS * scale;
    const cx = x + slice.centre.col * scale + Math.floor((scale - thick) / 2);
    const cy = y + slice.centre.row * scale + Math.floor((scale - thick) / 2);
    // Clipped to the tile, so a centre near the edge does not paint the neighbouring slice.
    const clip = (from: number, length: number, lo: number, hi: number): [number, number] => {
      const start = Math.max(from, lo);
      return [start, Math.max(0, Math.min(from + length, hi) - start)];
    };
    const [hx, hw] = clip(cx - arm, 2 * arm + thick, x, x + cols * scale);
    const [vy, vh] = clip(cy - arm, 2 * arm + thick, y, y + rows * scale);
    fillRect(image, hx, cy, hw, thick, PREVIEW_COLOURS.centre);
    fillRect(image, cx, vy, thick, vh, PREVIEW_COLOURS.centre);
  }
}
