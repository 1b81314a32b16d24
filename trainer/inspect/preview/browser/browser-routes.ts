import { encodePng } from '../../image/encode-png.js';
import { rgbaImage } from '../../image/rgba-image.js';
import { noduleInCrop } from '../nodule-in-crop.js';
import { cropOf, foregroundVoxels, type PreviewBatch, sliceOf } from '../preview-batch.js';
import { PREVIEW_COLOURS } from '../preview-colours.js';
import { renderSlice } from '../render-slice.js';
import { batchStatistics } from './batch-statistics.js';
import { CROP_BROWSER_HTML, CROP_BROWSER_SCRIPT } from './crop-browser-page.js';

/** What the browser can look at: steps of a StreamBatches request, or plan positions. */
export type BrowserPages =
  | {
      readonly kind: 'steps';
      readonly first: number;
      /** null: to the end of the epoch. */
      readonly last: number | null;
    }
  | { readonly kind: 'indices'; readonly indices: readonly number[] };

export interface BrowserDeps {
  readonly pages: BrowserPages;
  /** The request as the page shows it (seed, epoch, crop...). */
  readonly request: Readonly<Record<string, unknown>>;
  /** A step's batch (pages of kind steps) or a plan position's sample (kind indices). */
  batch(key: number): Promise<PreviewBatch>;
}

export interface BrowserResponse {
  readonly status: number;
  readonly type: string;
  readonly body: string | Buffer;
}

/** Largest pixels per voxel side a slice is drawn with. */
const MAX_SCALE = 16;

const TEXT = 'text/plain; charset=utf-8';

/**
 * The crop browser's routes: the page and its script, `/api/info`, `/api/batch?key=K` (records and
 * statistics) and `/api/slice.png?key=K&sample=S&z=Z&overlay=1&scale=N`, where K is a step or a plan
 * position as /api/info says. A bad query is a 400 with one line naming the parameter and its range.
 */
export async function browserRoute(url: URL, deps: BrowserDeps): Promise<BrowserResponse> {
  switch (url.pathname) {
    case '/':
    case '/index.html':
      return { status: 200, type: 'text/html; charset=utf-8', body: CROP_BROWSER_HTML };
    case '/app.js':
      return { status: 200, type: 'text/javascript; charset=utf-8', body: CROP_BROWSER_SCRIPT };
    case '/api/info':
      return json({ pages: deps.pages, request: deps.request });
    case '/api/batch': {
      const key = pageKey(url, deps.pages);
      if (typeof key === 'string') return badRequest(key);
      return json(batchRecord(key, await deps.batch(key)));
    }
    case '/api/slice.png': {
      const key = pageKey(url, deps.pages);
      if (typeof key === 'string') return badRequest(key);
      const batch = await deps.batch(key);
      const [s0] = cropOf(batch);
      const values = [
        integerParam(url, 'sample', 0, batch.samples.length - 1),
        integerParam(url, 'z', 0, s0 - 1),
        integerParam(url, 'scale', 1, MAX_SCALE, 1),
        integerParam(url, 'overlay', 0, 1, 1),
      ];
      const problem = values.find((value) => typeof value === 'string');
      if (problem !== undefined) return badRequest(problem as string);
      const [sample, z, scale, overlay] = values as [number, number, number, number];
      return {
        status: 200,
        type: 'image/png',
        body: encodePng(slicePicture(batch, sample, z, scale, overlay === 1)),
      };
    }
    default:
      return { status: 404, type: TEXT, body: `no page ${url.pathname}; open /\n` };
  }
}

/**
 * One slice of one sample at `scale` pixels per voxel, drawn as in the montages: grey levels, and with
 * `overlay` the mask's contour and, on the slice that holds it, the cross on the nodule's centre.
 */
export function slicePicture(
  batch: PreviewBatch,
  sample: number,
  z: number,
  scale: number,
  overlay: boolean,
) {
  const [s0, s1, s2] = cropOf(batch);
  const image = rgbaImage(s2 * scale, s1 * scale, PREVIEW_COLOURS.background);
  const { voxels, mask } = sliceOf(batch, sample, z);
  const centre = overlay ? noduleInCrop(batch.samples[sample]!, [s0, s1, s2]) : null;
  renderSlice(image, 0, 0, {
    voxels,
    mask: overlay ? mask : null,
    rows: s1,
    cols: s2,
    scale,
    centre: centre !== null && centre.z === z ? centre : null,
  });
  return image;
}

/** The batch as the page shows it: each sample's record (SampleInfo), its foreground and centre voxel. */
function batchRecord(key: number, batch: PreviewBatch) {
  const crop = cropOf(batch);
  return {
    key,
    step: batch.step,
    stepsInEpoch: batch.stepsInEpoch,
    shape: batch.shape,
    samples: batch.samples.map((info, sample) => ({
      ...info,
      foregroundVoxels: foregroundVoxels(batch, sample),
      centreInCrop: noduleInCrop(info, crop),
    })),
    statistics: batchStatistics(batch),
  };
}

/** `key` as a number the pages hold, or a problem line. */
function pageKey(url: URL, pages: BrowserPages): number | string {
  if (pages.kind === 'indices') {
    const key = integerParam(url, 'key', 0, Number.MAX_SAFE_INTEGER);
    if (typeof key === 'string') return key;
    return pages.indices.includes(key)
      ? key
      : `key=${key}: this preview shows plan positions ${pages.indices.join(',')}; pick one of them`;
  }
  return integerParam(url, 'key', pages.first, pages.last ?? Number.MAX_SAFE_INTEGER);
}

function integerParam(url: URL, name: string, min: number, max: number, fallback?: number): number | string {
  const text = url.searchParams.get(name);
  if (text === null && fallback !== undefined) return fallback;
  const value = text !== null && /^\d+$/.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) && value >= min && value <= max
    ? value
    : `${name}=${text ?? ''}: give a whole number from ${min} to ${max}`;
}

function json(value: unknown): BrowserResponse {
  return { status: 200, type: 'application/json', body: JSON.stringify(value) };
}

function badRequest(problem: string): BrowserResponse {
  return { status: 400, type: TEXT, body: `${problem}\n` };
}
