import type { StreamRequest } from '../server/batches/crop-request.js';
import { PlanCache } from '../server/batches/plan-cache.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { resolveSamplingPolicy } from '../server/sampling/sampling-policy.js';
import type { Shape3 } from '../server/sampling/types.js';
import { benchStreamDeps, benchStreamRequest } from './in-process-stream.js';

/**
 * The transforms that cost a pass over the crop or less, at the probabilities nnU-Net uses (mirror 0.5 per
 * axis, brightness 0.15, gamma 0.3, noise 0.1) plus quarter turns and a shift at 0.5 and 0.15.
 */
export const USUAL_AUGMENTATION = {
  flipProb: 0.5,
  rotate90Prob: 0.5,
  scaleIntensityProb: 0.15,
  scaleIntensityFactor: 0.25,
  shiftIntensityProb: 0.15,
  shiftIntensityOffset: 0.1,
  adjustContrastProb: 0.3,
  gammaMin: 0.7,
  gammaMax: 1.5,
  gaussianNoiseProb: 0.1,
  gaussianNoiseStd: 0.1,
};

export interface AugmentResult {
  readonly series: number;
  /** Per dtype: crops/s of each round without and with augmentation, alternating, in one process. */
  readonly rounds: Record<'uint8' | 'float32', { readonly off: number[]; readonly on: number[] }>;
}

/**
 * In-process crops/s (the server's batch pipeline from a warm cache, no network) without and with the usual
 * augmentation, in alternating rounds of the same process, so load on the machine hits both alike.
 */
export async function benchAugment(
  dir: string,
  options: { seconds: number; batchSize: number; crop: Shape3; rounds: number },
): Promise<AugmentResult> {
  const catalog = await buildCatalog({ source: dir });
  const cache = new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    load: (index) => loadCatalogVolume(catalog.series[index]!),
  });
  const plans = new PlanCache(catalog.series);
  const negativesPerEpoch = catalog.series.length * 50;
  const plain = resolveSamplingPolicy({ negativesPerEpoch });
  const augmented = resolveSamplingPolicy({ negativesPerEpoch, augmentation: USUAL_AUGMENTATION });
  const deps = benchStreamDeps('bench-augment');
  const request = (dtype: 'uint8' | 'float32', augment: boolean): StreamRequest =>
    benchStreamRequest({
      datasetName: catalog.name,
      dataset: { catalog, cache, plans },
      policy: augment ? augmented : plain,
      cropSize: options.crop,
      dtype,
      batchSize: options.batchSize,
    });
  const run = async (dtype: 'uint8' | 'float32', augment: boolean, seconds: number): Promise<number> => {
    let crops = 0;
    const started = performance.now();
    const timeLeft = () => performance.now() - started < seconds * 1000;
    while (timeLeft()) {
      for await (const ready of streamReadyBatches(
        request(dtype, augment),
        new AbortController().signal,
        deps,
      )) {
        ready.release();
        crops += options.batchSize;
        if (!timeLeft()) break;
      }
    }
    return crops / ((performance.now() - started) / 1000);
  };
  // One whole epoch loads every series (the cache holds them all), then short runs warm the JIT.
  for await (const ready of streamReadyBatches(request('uint8', false), new AbortController().signal, deps)) {
    ready.release();
  }
  await run('uint8', true, 0.5);
  await run('float32', true, 0.5);
  const rounds: AugmentResult['rounds'] = { uint8: { off: [], on: [] }, float32: { off: [], on: [] } };
  for (let round = 0; round < options.rounds; round++) {
    for (const dtype of ['uint8', 'float32'] as const) {
      rounds[dtype].off.push(await run(dtype, false, options.seconds));
      rounds[dtype].on.push(await run(dtype, true, options.seconds));
    }
  }
  return { series: catalog.series.length, rounds };
}
