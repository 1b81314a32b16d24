import { FROC_RATES, type FrocPoint, interpolate } from './froc.js';

/** An RGBA image, row after row from the top left, 4 bytes per pixel. */
export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

type Rgb = readonly [number, number, number];

const BACKGROUND: Rgb = [255, 255, 255];
const GRID: Rgb = [221, 221, 221];
const AXIS: Rgb = [0, 0, 0];
export const CURVE_COLOUR: Rgb = [31, 119, 180];
export const POINT_COLOUR: Rgb = [214, 39, 40];

/** Left, right, top and bottom margins around the plot area, in pixels (room for the labels). */
const MARGIN = { left: 56, right: 16, top: 16, bottom: 40 } as const;
const LOG2_MIN = -3;
const LOG2_MAX = 3;
const X_LABELS = ['1/8', '1/4', '1/2', '1', '2', '4', '8'];
const Y_TICKS = [0, 0.25, 0.5, 0.75, 1];
const Y_LABELS: Readonly<Record<number, string>> = { 0: '0', 0.5: '0.5', 1: '1' };

/** 3x5 glyphs of the characters the labels use, one row of 3 bits per string. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '8': ['111', '101', '111', '101', '111'],
  '/': ['001', '001', '010', '100', '100'],
  '.': ['000', '000', '000', '000', '010'],
};
const GLYPH_SCALE = 2;

/**
 * A FROC plot: sensitivity (0 to 1, linear) against false positives per scan (1/8 to 8, log scale), grid
 * lines at the seven LUNA16 rates and every quarter of sensitivity, the curve as `interpolate` reads it
 * (so vertical rises show), and a dot at each rate. Labels are the tick values only: the axes are the same in
 * every plot and the documentation names them.
 */
export function drawFrocRaster(curve: readonly FrocPoint[], width = 640, height = 480): Raster {
  const data = new Uint8Array(width * height * 4);
  const paint = (x: number, y: number, [r, g, b]: Rgb): void => {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= width || py >= height) return;
    const at = (py * width + px) * 4;
    data[at] = r;
    data[at + 1] = g;
    data[at + 2] = b;
    data[at + 3] = 255;
  };
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) paint(x, y, BACKGROUND);

  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const xOf = (rate: number): number =>
    left + ((Math.log2(rate) - LOG2_MIN) / (LOG2_MAX - LOG2_MIN)) * (right - left);
  const yOf = (sensitivity: number): number => bottom - sensitivity * (bottom - top);
  const line = (x0: number, y0: number, x1: number, y1: number, colour: Rgb): void => {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= steps; i++)
      paint(x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps, colour);
  };
  const text = (label: string, x: number, y: number): void => {
    [...label].forEach((char, index) => {
      const glyph = GLYPHS[char] ?? [];
      glyph.forEach((row, gy) => {
        [...row].forEach((bit, gx) => {
          if (bit !== '1') return;
          for (let sy = 0; sy < GLYPH_SCALE; sy++) {
            for (let sx = 0; sx < GLYPH_SCALE; sx++) {
              paint(x + (index * 4 + gx) * GLYPH_SCALE + sx, y + gy * GLYPH_SCALE + sy, AXIS);
            }
          }
        });
      });
    });
  };
  const textWidth = (label: string): number => (label.length * 4 - 1) * GLYPH_SCALE;

  FROC_RATES.forEach((rate, index) => {
    const x = xOf(rate);
    line(x, top, x, bottom, GRID);
    line(x, bottom, x, bottom + 4, AXIS);
    const label = X_LABELS[index]!;
    text(label, x - textWidth(label) / 2, bottom + 10);
  });
  for (const tick of Y_TICKS) {
    const y = yOf(tick);
    line(left, y, right, y, GRID);
    line(left - 4, y, left, y, AXIS);
    const label = Y_LABELS[tick];
    if (label !== undefined) text(label, left - 8 - textWidth(label), y - 5);
  }
  line(left, top, left, bottom, AXIS);
  line(left, bottom, right, bottom, AXIS);

  // One sample per pixel column, joined by lines, so a vertical rise of the curve is drawn as one.
  let previous: readonly [number, number] | null = null;
  for (let x = Math.ceil(left); x <= right; x++) {
    const rate = 2 ** (LOG2_MIN + ((x - left) / (right - left)) * (LOG2_MAX - LOG2_MIN));
    const point = [x, yOf(interpolate(curve, rate))] as const;
    if (previous !== null) line(previous[0], previous[1], point[0], point[1], CURVE_COLOUR);
    previous = point;
  }
  for (const rate of FROC_RATES) {
    const cx = xOf(rate);
    const cy = yOf(interpolate(curve, rate));
    for (let dy = -3; dy <= 3; dy++) {
      for (let dx = -3; dx <= 3; dx++) if (dx * dx + dy * dy <= 10) paint(cx + dx, cy + dy, POINT_COLOUR);
    }
  }
  return { width, height, data };
}
