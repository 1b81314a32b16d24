import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { extractCrop } from '../server/sampling/extract-crop.js';

/**
 * The baseline voxelfeed replaces: a PyTorch-style `Dataset` that reads and decodes the whole image and mask
 * for every crop (the seed's `__getitem__`), here on one core with our own decoder.
 */
export async function benchPerCropDecode(
  dir: string,
  options: { seconds: number; crop: readonly [number, number, number] },
): Promise<{ crops: number; cropsPerSecond: number }> {
  const catalog = await buildCatalog({ source: dir });
  const voxels = options.crop[0] * options.crop[1] * options.crop[2];
  const image = new Uint8Array(voxels);
  const mask = new Uint8Array(voxels);
  let crops = 0;
  const started = performance.now();
  while (performance.now() - started < options.seconds * 1000) {
    const series = catalog.series[crops % catalog.series.length]!;
    const volume = await loadCatalogVolume(series);
    extractCrop(volume, { origin: [0, 0, 0], size: options.crop, padValue: 0 }, { image, mask, offset: 0 });
    crops += 1;
  }
  return { crops, cropsPerSecond: crops / ((performance.now() - started) / 1000) };
}
