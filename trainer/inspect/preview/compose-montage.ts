import type { PlacedText } from '../image/caption-font.js';
import { type RgbaImage, rgbaImage } from '../image/rgba-image.js';
import { type MontageLayout, montageLayout } from './montage-layout.js';
import { noduleInCrop } from './nodule-in-crop.js';
import { nearestShownSlice, pickSlices } from './pick-slices.js';
import { cropOf, foregroundVoxels, type PreviewBatch, sliceOf } from './preview-batch.js';
import { PREVIEW_COLOURS } from './preview-colours.js';
import { renderSlice } from './render-slice.js';
import { sampleCaption } from './sample-caption.js';

/** Pixels between tiles. */
export const MONTAGE_GAP = 4;

export interface MontageOptions {
  /** Show every K-th slice along axis 0 (1: all). */
  readonly every: number;
  /** Pixels per voxel side. */
  readonly scale: number;
  /** Draw the mask's contour and the centre cross (true for montages; the browser toggles it). */
  readonly overlay: boolean;
}

export interface Montage {
  /** The tiles drawn, the caption bands left empty for the texts. */
  readonly image: RgbaImage;
  /** Slice numbers and captions, to print with the caption font. */
  readonly texts: readonly PlacedText[];
  readonly layout: MontageLayout;
  /** The slices shown, left to right. */
  readonly slices: readonly number[];
}

/**
 * A batch's montage: per sample a caption and a row of the chosen slices along axis 0, each slice in grey
 * levels with the mask's contour, and a cross on the nodule's centre on the shown slice nearest to it.
 * `font` only measures here, so this stays a pure function of its inputs.
 */
export function composeMontage(
  batch: PreviewBatch,
  options: MontageOptions,
  font: { readonly lineHeight: number; measure(text: string): number },
): Montage {
  const [s0, s1, s2] = cropOf(batch);
  const slices = pickSlices(s0, options.every);
  const captions = batch.samples.map((info, sample) => sampleCaption(info, foregroundVoxels(batch, sample)));
  const layout = montageLayout({
    samples: batch.samples.length,
    slices: slices.length,
    tileWidth: s2 * options.scale,
    tileHeight: s1 * options.scale,
    gap: MONTAGE_GAP,
    labelHeight: font.lineHeight,
    captionHeight: font.lineHeight,
    captionWidth: Math.max(0, ...captions.map((caption) => font.measure(caption))),
  });
  const image = rgbaImage(layout.width, layout.height, PREVIEW_COLOURS.background);
  batch.samples.forEach((info, sample) => {
    const centre = options.overlay ? noduleInCrop(info, [s0, s1, s2]) : null;
    const centreSlice = centre === null ? null : nearestShownSlice(slices, centre.z);
    slices.forEach((z, column) => {
      const { voxels, mask } = sliceOf(batch, sample, z);
      const at = layout.tiles[sample]![column]!;
      renderSlice(image, at.x, at.y, {
        voxels,
        mask: options.overlay ? mask : null,
        rows: s1,
        cols: s2,
        scale: options.scale,
        centre: centre !== null && z === centreSlice ? centre : null,
      });
    });
  });
  const texts: PlacedText[] = [
    ...slices.map((z, column) => ({ ...layout.sliceLabels[column]!, text: `z${z}` })),
    ...captions.map((text, sample) => ({ ...layout.captions[sample]!, text })),
  ];
  return { image, texts, layout, slices };
}
