import type { Catalog, CatalogSeries } from '../catalog/catalog.js';
import type { SkippedSeries } from '../catalog/series-files.js';
import { mapWithConcurrency } from '../map-with-concurrency.js';
import { type RawVolume, readNrrdVolume } from '../nrrd/nrrd-reader.js';
import {
  type BoxMaskMismatch,
  checkBoxesAgainstMask,
  describeBoxMaskMismatch,
  type MaskView,
} from './check-boxes-against-mask.js';

/** What `voxelfeed index --check` found by reading every mask once. */
export interface CatalogMaskReport {
  /** Series with boxes whose mask was read and checked. */
  readonly checked: number;
  /** Series whose boxes miss their mask, each with the reason (cause and fix), sorted by uid. */
  readonly mismatched: ReadonlyArray<SkippedSeries & { readonly mismatch: BoxMaskMismatch }>;
  /** Series whose mask could not be read (its header was fine): the server would mark them bad. */
  readonly unreadable: readonly SkippedSeries[];
}

/**
 * Masks decoded at once: each holds its file and its decoded voxels (a float mask of a LUNA16 scan is
 * hundreds of MiB), and gzip inflates on libuv's threads anyway.
 */
const MASK_READS_AT_ONCE = 2;

/**
 * Reads the mask of every series that has boxes, once, and checks each box centre against it (the same check
 * the server makes at a series' first decode). Series without boxes are not read: there is nothing to check.
 */
export async function checkCatalogMasks(catalog: Catalog): Promise<CatalogMaskReport> {
  const withBoxes = catalog.series.filter((series) => series.nodules.length > 0);
  type Result =
    | { readonly series: CatalogSeries; readonly mismatch: BoxMaskMismatch | null }
    | { readonly series: CatalogSeries; readonly error: string };
  const results = await mapWithConcurrency(withBoxes, MASK_READS_AT_ONCE, async (series): Promise<Result> => {
    try {
      const mask = await readNrrdVolume(series.maskPath);
      return { series, mismatch: checkBoxesAgainstMask(series.nodules, fileOrderView(mask), series.spacing) };
    } catch (error) {
      return { series, error: error instanceof Error ? error.message : String(error) };
    }
  });
  const mismatched: Array<SkippedSeries & { mismatch: BoxMaskMismatch }> = [];
  const unreadable: SkippedSeries[] = [];
  for (const result of results) {
    if ('error' in result) {
      unreadable.push({ uid: result.series.uid, reason: result.error });
    } else if (result.mismatch !== null) {
      mismatched.push({
        uid: result.series.uid,
        reason: reasonOf(result.series, result.mismatch),
        mismatch: result.mismatch,
      });
    }
  }
  return { checked: withBoxes.length, mismatched, unreadable };
}

function reasonOf(series: CatalogSeries, mismatch: BoxMaskMismatch): string {
  return describeBoxMaskMismatch(mismatch, series.nodules, series, series.spacing);
}

/** A mask as read from its file: any type, file order (axis 0 fastest); a value above 0 is a nodule voxel. */
function fileOrderView(mask: RawVolume): MaskView {
  const [n0, n1] = mask.sizes;
  const { data } = mask;
  return {
    shape: mask.sizes,
    isNodule: (i0, i1, i2) => data[i0 + n0 * (i1 + n1 * i2)]! > 0,
    isEmpty: () => {
      for (let i = 0; i < data.length; i++) if (data[i]! > 0) return false;
      return true;
    },
  };
}
