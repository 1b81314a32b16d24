import type { SeriesSummary, Vec3 } from '../../sampling/types.js';
import type { SkippedSeries } from './series-files.js';

/** A series the server can serve: what sampling needs plus where its files are. */
export interface CatalogSeries extends SeriesSummary {
  readonly imagePath: string;
  readonly maskPath: string;
  readonly boxesPath: string;
  /**
   * Voxel size per axis from the image header (millimetres for CT), null when the header gives none; only the
   * box check reads it (boxes in millimetres). Optional so that series built by hand need not say.
   */
  readonly spacing?: Vec3 | null;
}

/**
 * A data set as indexed at start-up from headers and box files only. Series are sorted by uid, so the
 * catalog (and every plan built on it) does not depend on directory listing order.
 */
export interface Catalog {
  readonly name: string;
  readonly source: string;
  readonly series: readonly CatalogSeries[];
  readonly skipped: readonly SkippedSeries[];
  readonly nodules: number;
  /** sha256 over every served uid, shape and box: equal fingerprints serve equal bytes. */
  readonly fingerprint: string;
  /** Bytes one decoded series takes in the cache (image + mask, uint8), summed over all series. */
  readonly decodedBytes: number;
}
