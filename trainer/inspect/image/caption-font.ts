import { Jimp, loadFont, measureText } from 'jimp';
import { SANS_16_WHITE } from 'jimp/fonts';
import type { RgbaImage } from './rgba-image.js';

/** A line of text and where its top-left corner goes. */
export interface PlacedText {
  readonly x: number;
  readonly y: number;
  readonly text: string;
}

/** jimp's bundled bitmap font (Open Sans 16, white): measures text and prints it onto an image as PNG. */
export interface CaptionFont {
  /** Pixels from one line's top to the next's. */
  readonly lineHeight: number;
  /** Width of `text` in pixels. */
  measure(text: string): number;
  /** The image with the texts printed on it, as PNG bytes. `image` itself is left as it was. */
  toPng(image: RgbaImage, texts: readonly PlacedText[]): Promise<Buffer>;
}

/** Loads the font once (a few hundred milliseconds); reuse it for every image. */
export async function loadCaptionFont(): Promise<CaptionFont> {
  const font = await loadFont(SANS_16_WHITE);
  return {
    lineHeight: font.common.lineHeight,
    measure: (text) => measureText(font, text),
    toPng: async (image, texts) => {
      const drawn = Jimp.fromBitmap({
        width: image.width,
        height: image.height,
        data: Buffer.from(image.data),
      });
      for (const { x, y, text } of texts) drawn.print({ font, x, y, text });
      return drawn.getBuffer('image/png');
    },
  };
}
