import { createRng, type Rng, RngPurpose } from '../../../server/sampling/rng.js';
import type { Nodule, SeriesSummary, Shape3, Volume } from '../../../server/sampling/types.js';

/** A small random catalog for invariant tests; some series have no nodules. Deterministic in `key`. */
export function syntheticCatalog(key: number, seriesCount: number): SeriesSummary[] {
  const rng = createRng([key, RngPurpose.synth]);
  const series: SeriesSummary[] = [];
  for (let s = 0; s < seriesCount; s++) {
    const shape: Shape3 = [rng.nextInt(8, 40), rng.nextInt(8, 48), rng.nextInt(8, 48)];
    const nodules: Nodule[] = [];
    const count = s % 3 === 1 ? 0 : rng.nextInt(1, 4);
    for (let k = 0; k < count; k++) nodules.push(randomNodule(rng, shape));
    series.push({ uid: `series-${key}-${s}`, shape, nodules });
  }
  return series;
}

/** A nodule whose centre voxel lies inside the volume, anywhere, edges included; diameter 0..12 voxels. */
export function randomNodule(rng: Rng, shape: Shape3): Nodule {
  const coordinate = (n: number) => Math.min(n - 0.51, rng.nextFloat() * n - 0.49);
  return {
    center: [coordinate(shape[0]), coordinate(shape[1]), coordinate(shape[2])],
    diameter: rng.nextFloat() * 12,
  };
}

/**
 * A volume whose image is a voxel-position pattern and whose mask marks each nodule as a ball of radius
 * max(d/2, 1) around its centre, centre voxel round(c) always included.
 */
export function sphereVolume(summary: SeriesSummary): Volume {
  const [n0, n1, n2] = summary.shape;
  const image = new Uint8Array(n0 * n1 * n2);
  const mask = new Uint8Array(n0 * n1 * n2);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + 3) & 255;
  for (const { center, diameter } of summary.nodules) {
    const r = Math.max(diameter / 2, 1);
    for (let x0 = 0; x0 < n0; x0++) {
      for (let x1 = 0; x1 < n1; x1++) {
        for (let x2 = 0; x2 < n2; x2++) {
          const d2 = (x0 - center[0]) ** 2 + (x1 - center[1]) ** 2 + (x2 - center[2]) ** 2;
          if (d2 <= r * r) mask[(x0 * n1 + x1) * n2 + x2] = 1;
        }
      }
    }
    const c = center.map((x) => Math.floor(x + 0.5));
    mask[(c[0]! * n1 + c[1]!) * n2 + c[2]!] = 1;
  }
  return { shape: summary.shape, image, mask };
}
