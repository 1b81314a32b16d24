import type { Volume } from '../../sampling/types.js';
import type { CatalogSeries } from '../catalog/catalog.js';
import {
  type BoxMaskMismatch,
  checkBoxesAgainstMask,
  describeBoxMaskMismatch,
  maskViewOfVolume,
} from './check-boxes-against-mask.js';

/** A series whose boxes miss its mask, as found at its first decode. */
export interface BoxMaskFinding {
  readonly series: CatalogSeries;
  readonly mismatch: BoxMaskMismatch;
  /** One line: how many centres miss, the likely cause and the fix. */
  readonly reason: string;
}

/**
 * Checks each series' boxes against its mask the first time its volume is decoded (start-up reads headers
 * only, so this is the server's first look at the mask). Later decodes of the same series, after an eviction,
 * are not checked again, so the finding is reported once per series. The series is served all the same:
 * its batches do not change, the operator is told.
 */
export class BoxMaskMonitor {
  private readonly checked = new Set<number>();
  private mismatched = 0;

  constructor(
    private readonly series: readonly CatalogSeries[],
    private readonly onMismatch: (finding: BoxMaskFinding) => void,
  ) {}

  /** Series checked so far. */
  get checkedSeries(): number {
    return this.checked.size;
  }

  /** Series whose boxes were found to miss their mask so far. */
  get mismatchedSeries(): number {
    return this.mismatched;
  }

  /** Call with each decoded volume of series `index`; checks it the first time only. */
  afterDecode(index: number, volume: Volume): void {
    if (this.checked.has(index)) return;
    const series = this.series[index];
    if (series === undefined) return;
    this.checked.add(index);
    const mismatch = checkBoxesAgainstMask(series.nodules, maskViewOfVolume(volume), series.spacing);
    if (mismatch === null) return;
    this.mismatched++;
    this.onMismatch({
      series,
      mismatch,
      reason: describeBoxMaskMismatch(mismatch, series.nodules, series, series.spacing),
    });
  }
}
