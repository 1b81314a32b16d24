import type { DatasetRegistry, ServedDataset } from '../../server/batches/served-dataset.js';
import type { Catalog } from '../../server/dataset/catalog/catalog.js';
import type { Shape3, Vec3 } from '../../server/sampling/types.js';

/**
 * A catalog of series `1.2.<i>` with these shapes, no nodules and no files, for code that reads only the
 * catalog; every series has `spacing` when it is given, none otherwise.
 */
export function stubCatalog(shapes: readonly Shape3[], spacing?: Vec3): Catalog {
  return {
    name: 'd',
    source: '/nowhere',
    series: shapes.map((shape, i) => ({
      uid: `1.2.${i}`,
      shape,
      nodules: [],
      imagePath: '',
      maskPath: '',
      boxesPath: '',
      ...(spacing === undefined ? {} : { spacing }),
    })),
    skipped: [],
    nodules: 0,
    fingerprint: '',
    decodedBytes: 0,
  } as unknown as Catalog;
}

/** A registry serving `dataset` (only the parts a test fills in) as data set "d", its default. */
export function stubRegistry(dataset: Partial<ServedDataset>): DatasetRegistry {
  return { defaultName: 'd', datasets: new Map([['d', dataset as ServedDataset]]) };
}
