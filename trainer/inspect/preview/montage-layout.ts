/** A point of the montage, in pixels from its top-left corner. */
export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface MontageLayoutInput {
  /** Rows: one per sample. */
  readonly samples: number;
  /** Tiles per row: one per shown slice. */
  readonly slices: number;
  /** A slice's size in pixels (voxels times the scale). */
  readonly tileWidth: number;
  readonly tileHeight: number;
  /** Pixels between tiles and around the whole. */
  readonly gap: number;
  /** Height of the band above the first row that numbers the slices. */
  readonly labelHeight: number;
  /** Height of the caption band above each row. */
  readonly captionHeight: number;
  /** Width the widest caption needs, so a short row does not cut it. */
  readonly captionWidth: number;
}

export interface MontageLayout {
  readonly width: number;
  readonly height: number;
  /** `tiles[sample][slice]`: the top-left pixel of that slice's tile. */
  readonly tiles: readonly (readonly Point[])[];
  /** Where each sample's caption starts. */
  readonly captions: readonly Point[];
  /** Where each slice's number is written, above its column. */
  readonly sliceLabels: readonly Point[];
}

/**
 * Where everything of a montage goes: the slice numbers in a band at the top, then per sample a caption band
 * and a row of tiles, `gap` pixels apart and around. Pure, so tests can find any voxel's pixel.
 */
export function montageLayout(input: MontageLayoutInput): MontageLayout {
  const { samples, slices, tileWidth, tileHeight, gap, labelHeight, captionHeight } = input;
  const rowWidth = slices * tileWidth + (slices - 1) * gap;
  const width = Math.max(rowWidth, input.captionWidth) + 2 * gap;
  const rowHeight = captionHeight + tileHeight + gap;
  const top = gap + labelHeight;
  const columnX = (slice: number) => gap + slice * (tileWidth + gap);
  const tiles: Point[][] = [];
  const captions: Point[] = [];
  for (let sample = 0; sample < samples; sample++) {
    const y = top + sample * rowHeight;
    captions.push({ x: gap, y });
    tiles.push(Array.from({ length: slices }, (_, slice) => ({ x: columnX(slice), y: y + captionHeight })));
  }
  return {
    width,
    height: top + samples * rowHeight,
    tiles,
    captions,
    sliceLabels: Array.from({ length: slices }, (_, slice) => ({ x: columnX(slice), y: gap })),
  };
}
