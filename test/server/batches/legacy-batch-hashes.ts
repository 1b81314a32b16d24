import { createHash } from 'node:crypto';
import { BatchMemory } from '../../../server/batches/batch-memory.js';
import type { StreamRequest } from '../../../server/batches/crop-request.js';
import { PlanCache } from '../../../server/batches/plan-cache.js';
import { streamReadyBatches } from '../../../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../../../server/cache/volume-cache.js';
import { buildCatalog } from '../../../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../../../server/dataset/loading/load-catalog-volume.js';
import { silentLogger } from '../../../server/log/logger.js';
import { ALL_SERIES, resolveSeriesSplit } from '../../../server/sampling/series-split.js';
import { DEFAULT_SAMPLING_POLICY, type SamplingPolicy } from '../../../server/sampling/types.js';
import { createPhantomDataset } from '../../support/phantom-dataset.js';
import { withoutPadding } from '../../support/without-padding.js';

/**
 * Requests without any of the newer sampling options, and the sha256 of every batch the server assembles for
 * them: `legacy-batch-hashes.json` was written by `scripts/write-legacy-batch-hashes.ts` from the code before
 * augmentation, avoiding negatives, foreground share and label classes existed, and a test checks that today's
 * code gives the same bytes.
 */
export interface LegacyRequest {
  readonly name: string;
  readonly seed: bigint;
  readonly epoch: number;
  readonly policy: Partial<SamplingPolicy>;
  readonly cropSize: readonly [number, number, number];
  readonly dtype: 'uint8' | 'float32';
  readonly includeMask: boolean;
  readonly batchSize: number;
  readonly worldSize: number;
  readonly rank: number;
  readonly holdout?: number;
}

export const LEGACY_REQUESTS: readonly LegacyRequest[] = [
  {
    name: 'defaults uint8 + mask',
    seed: 1n,
    epoch: 0,
    policy: {},
    cropSize: [8, 16, 16],
    dtype: 'uint8',
    includeMask: true,
    batchSize: 4,
    worldSize: 1,
    rank: 0,
  },
  {
    name: 'defaults float32',
    seed: 2n,
    epoch: 3,
    policy: {},
    cropSize: [8, 16, 16],
    dtype: 'float32',
    includeMask: false,
    batchSize: 3,
    worldSize: 1,
    rank: 0,
  },
  {
    name: 'negatives and padding',
    seed: 0xffff_ffff_ffffn,
    epoch: 1,
    policy: { negativesPerEpoch: 20, padValue: 17 },
    cropSize: [16, 32, 40],
    dtype: 'uint8',
    includeMask: true,
    batchSize: 5,
    worldSize: 2,
    rank: 1,
  },
  {
    name: 'jitter only, two samples per nodule',
    seed: 42n,
    epoch: 0,
    policy: { jitterProb: 1, negativeProb: 0, centerProb: 0, samplesPerNodule: 2 },
    cropSize: [6, 12, 12],
    dtype: 'float32',
    includeMask: true,
    batchSize: 4,
    worldSize: 1,
    rank: 0,
  },
  {
    name: 'centre only, windowed',
    seed: 7n,
    epoch: 2,
    policy: { jitterProb: 0, negativeProb: 0, centerProb: 1, shuffleWindow: 2, negativesPerEpoch: 6 },
    cropSize: [8, 8, 8],
    dtype: 'uint8',
    includeMask: true,
    batchSize: 2,
    worldSize: 1,
    rank: 0,
  },
  {
    name: 'crop larger than the volume',
    seed: 9n,
    epoch: 0,
    policy: { negativesPerEpoch: 4 },
    cropSize: [32, 56, 64],
    dtype: 'uint8',
    includeMask: true,
    batchSize: 2,
    worldSize: 1,
    rank: 0,
  },
  {
    name: 'train split',
    seed: 5n,
    epoch: 4,
    policy: { negativesPerEpoch: 8 },
    cropSize: [8, 16, 16],
    dtype: 'float32',
    includeMask: true,
    batchSize: 3,
    worldSize: 1,
    rank: 0,
    holdout: 0.3,
  },
];

/** The phantom data set the hashes were taken from: the same files, byte for byte, on every machine. */
/** Batch.padding's field number. */
const BATCH_PADDING_FIELD = 12;

export const LEGACY_DATASET = { series: 6, shape: [24, 48, 48] as const, seed: 11n };

/**
 * Every batch of each request's epoch, as sha256 hex of the encoded message without its padding field,
 * keyed by request name. The padding (Batch.padding, float32 only) depends on where the client's gRPC
 * library receives the message (`imageLanding`) and came later; without it a message is the one the older
 * code wrote, byte for byte, as the server writes the padding first and every other field as before.
 */
export async function legacyBatchHashes(imageLanding = 0): Promise<Record<string, string[]>> {
  const dataset = await createPhantomDataset({
    series: LEGACY_DATASET.series,
    shape: LEGACY_DATASET.shape,
    seed: LEGACY_DATASET.seed,
  });
  try {
    const catalog = await buildCatalog({ source: dataset.dir });
    const cache = new VolumeCache<number>({
      maxBytes: catalog.decodedBytes + 1024,
      load: (index) => loadCatalogVolume(catalog.series[index]!),
    });
    const plans = new PlanCache(catalog.series);
    const memory = new BatchMemory({ budgetBytes: 64 * 1024 ** 2 });
    const result: Record<string, string[]> = {};
    for (const legacy of LEGACY_REQUESTS) {
      const request: StreamRequest = {
        datasetName: catalog.name,
        dataset: { catalog, cache, plans },
        seed: legacy.seed,
        epoch: legacy.epoch,
        policy: { ...DEFAULT_SAMPLING_POLICY, ...legacy.policy },
        cropSize: legacy.cropSize,
        dtype: legacy.dtype,
        includeMask: legacy.includeMask,
        split:
          legacy.holdout === undefined
            ? ALL_SERIES
            : resolveSeriesSplit({ holdoutFraction: legacy.holdout, part: 'train' }),
        rank: legacy.rank,
        worldSize: legacy.worldSize,
        rankGroups: 1,
        batchSize: legacy.batchSize,
        startStep: 0,
        maxSteps: 0,
        stepStride: 1,
      };
      const hashes: string[] = [];
      for await (const ready of streamReadyBatches(request, new AbortController().signal, {
        prefetchBatches: 2,
        batchMemory: memory,
        log: silentLogger,
        streamId: legacy.name,
        imageLanding,
      })) {
        hashes.push(
          createHash('sha256').update(withoutPadding(ready.batch.bytes, BATCH_PADDING_FIELD)).digest('hex'),
        );
        ready.release();
      }
      result[legacy.name] = hashes;
    }
    return result;
  } finally {
    await dataset.cleanup();
  }
}
