import type { Catalog } from '../dataset/catalog/catalog.js';
import type { Logger } from '../log/logger.js';
import {
  describeNodulesLargerThanCrop,
  nodulesLargerThanCrop,
} from '../sampling/nodules-larger-than-crop.js';
import type { Shape3 } from '../sampling/types.js';

/** (data set, crop size) pairs remembered; past this many, new pairs are no longer warned about. */
const MAX_REMEMBERED = 1024;

/**
 * Warns once per (data set, crop size) when nodules are larger than the crop on an axis: the crop size is
 * known only from requests, so the first stream that asks for it is the first moment to tell. One log line
 * with the count and the largest example; O(nodules) once per pair, nothing afterwards.
 */
export class CropFitWarnings {
  private readonly seen = new Set<string>();

  constructor(private readonly maxRemembered = MAX_REMEMBERED) {}

  check(datasetName: string, catalog: Catalog, crop: Shape3, log: Logger): void {
    const key = `${datasetName}\u0000${crop.join('x')}`;
    if (this.seen.has(key) || this.seen.size >= this.maxRemembered) return;
    this.seen.add(key);
    const found = nodulesLargerThanCrop(catalog.series, crop);
    const text = describeNodulesLargerThanCrop(found, crop);
    if (text === null) return;
    log.warn(
      { nodulesLarger: found.count, nodules: found.of, example: found.example },
      `${text} (said once per data set and crop size)`,
    );
  }
}
