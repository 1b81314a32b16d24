import { PNG } from 'pngjs';
import type { RgbaImage } from './rgba-image.js';

/** An RGBA image as PNG bytes (pngjs, 8 bits per channel, no colour profile: the values are the pixels). */
export function encodePng(image: RgbaImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  return PNG.sync.write(png);
}
