import { Jimp, loadFont } from 'jimp';
import { SANS_10_BLACK } from 'jimp/fonts';

/** One histogram: its bars left to right, a title above and a label under the first, middle and last bar. */
export interface HistogramPanel {
  readonly title: string;
  readonly counts: readonly number[];
  /** Under the left end, the middle and the right end of the horizontal axis. */
  readonly axisLabels: readonly [string, string, string];
}

/**
 * Where a panel's parts go, in pixels: panels sit side by side, each `width` x `height`; bars stand on the
 * baseline at `plotBottom`, at most `plotHeight` tall, in `barSlot`-wide slots from `plotLeft` (a gap each
 * side), the tallest count reaching the top. Exported so tests can find a bar in the decoded PNG.
 */
export const PANEL_LAYOUT = {
  width: 320,
  height: 200,
  plotLeft: 44,
  plotTop: 36,
  plotWidth: 260,
  plotHeight: 124,
  barGap: 2,
} as const;

/** The colour of the bars (RGBA). */
export const BAR_RGBA = [52, 101, 164, 255] as const;

const AXIS_RGBA = [0, 0, 0, 255] as const;

/** The bar's left edge and width within its panel for bin `bin` of `bins`. */
export function barColumns(bin: number, bins: number): { x: number; width: number } {
  const slot = PANEL_LAYOUT.plotWidth / bins;
  const x = Math.round(PANEL_LAYOUT.plotLeft + bin * slot + PANEL_LAYOUT.barGap);
  const end = Math.round(PANEL_LAYOUT.plotLeft + (bin + 1) * slot - PANEL_LAYOUT.barGap);
  return { x, width: Math.max(1, end - x) };
}

/** The bar height in pixels for `count` when the tallest bar counts `max`. */
export function barHeight(count: number, max: number): number {
  return max > 0 ? Math.round((count / max) * PANEL_LAYOUT.plotHeight) : 0;
}

/** Draws the panels side by side on white with jimp (text in its bundled font) and returns the PNG bytes. */
export async function histogramPng(panels: readonly HistogramPanel[]): Promise<Buffer> {
  const { width, height, plotLeft, plotTop, plotWidth, plotHeight } = PANEL_LAYOUT;
  const image = new Jimp({ width: width * panels.length, height, color: 0xffffffff });
  const font = await loadFont(SANS_10_BLACK);
  const fill = (x: number, y: number, w: number, h: number, rgba: readonly number[]) => {
    image.scan(x, y, w, h, (_x, _y, at) => {
      image.bitmap.data.set(rgba, at);
    });
  };
  const baseline = plotTop + plotHeight;
  panels.forEach((panel, p) => {
    const left = p * width;
    const max = Math.max(0, ...panel.counts);
    image.print({ font, x: left + 8, y: 6, text: panel.title });
    image.print({ font, x: left + 4, y: plotTop - 6, text: String(max) });
    image.print({ font, x: left + 4, y: baseline - 12, text: '0' });
    panel.counts.forEach((count, bin) => {
      const bar = barColumns(bin, panel.counts.length);
      const tall = barHeight(count, max);
      if (tall > 0) fill(left + bar.x, baseline - tall, bar.width, tall, BAR_RGBA);
    });
    // The axes: a baseline under the bars and a vertical line at the plot's left.
    fill(left + plotLeft, baseline, plotWidth, 1, AXIS_RGBA);
    fill(left + plotLeft - 1, plotTop, 1, plotHeight + 1, AXIS_RGBA);
    const [first, middle, last] = panel.axisLabels;
    image.print({ font, x: left + plotLeft - 4, y: baseline + 6, text: first });
    image.print({ font, x: left + plotLeft + plotWidth / 2 - 8, y: baseline + 6, text: middle });
    image.print({ font, x: left + plotLeft + plotWidth - 16, y: baseline + 6, text: last });
  });
  return image.getBuffer('image/png');
}
