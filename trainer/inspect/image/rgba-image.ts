/** An RGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/** Pixels in RGBA order, row after row: what pngjs encodes and jimp wraps without a copy. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/** A `width` x `height` image filled with one opaque colour. */
export function rgbaImage(width: number, height: number, fill: Rgb): RgbaImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`an image needs whole sizes of at least 1 pixel, not ${width}x${height}`);
  }
  const data = new Uint8Array(width * height * 4);
  for (let at = 0; at < data.length; at += 4) {
    data[at] = fill[0];
    data[at + 1] = fill[1];
    data[at + 2] = fill[2];
    data[at + 3] = 255;
  }
  return { width, height, data };
}

/** Paints the pixels of the rectangle that lie inside the image (the rest is clipped). */
export function fillRect(
  image: RgbaImage,
  x: number,
  y: number,
  width: number,
  height: number,
  colour: Rgb,
): void {
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = Math.min(image.width, x + width);
  const y1 = Math.min(image.height, y + height);
  for (let py = y0; py < y1; py++) {
    for (let px = x0; px < x1; px++) {
      const at = (py * image.width + px) * 4;
      image.data[at] = colour[0];
      image.data[at + 1] = colour[1];
      image.data[at + 2] = colour[2];
      image.data[at + 3] = 255;
    }
  }
}

/** The RGB of one pixel. */
export function pixelAt(image: RgbaImage, x: number, y: number): Rgb {
  const at = (y * image.width + x) * 4;
  return [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
}
