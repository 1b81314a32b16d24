import { PlanCache } from '../server/batches/plan-cache.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { resolveSamplingPolicy } from '../server/sampling/sampling-policy.js';
import type { Shape3 } from '../server/sampling/types.js';
import { benchStreamDeps, benchStreamRequest } from './in-process-stream.js';

export interface AssemblyResult {
  /** Image and mask bytes of one batch: what the memcpy copies each time. */
  readonly batchBytes: number;
  /** Bytes of the source the memcpy copies from: one decoded volume (image and mask). */
  readonly sourceBytes: number;
  /** Per round, alternating: batches/s of the server's pipeline, and copies/s of `batchBytes`. */
  readonly assembled: readonly number[];
  readonly copied: readonly number[];
}

/**
 * In-process assembly against a memcpy of the same bytes: batches/s of the server's batch pipeline from a
 * warm cache (streamReadyBatches: plan, prefetch, cut, encode into wire-ready buffers, as
 * in-process-crops.ts runs it) against `Buffer.copy` of a batch's tensor bytes from a volume-sized source
 * into one batch buffer, from a moving offset so the source is read all over. The ratio says how far
 * cutting crops is from the cost of moving their bytes once. Rounds alternate in one process.
 */
export async function benchAssembly(
  dir: string,
  options: { seconds: number; batchSize: number; crop: Shape3; rounds: number },
): Promise<AssemblyResult> {
  const catalog = await buildCatalog({ source: dir });
  const cache = new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    load: (index) => loadCatalogVolume(catalog.series[index]!),
  });
  const request = benchStreamRequest({
    datasetName: catalog.name,
    dataset: { catalog, cache, plans: new PlanCache(catalog.series) },
    policy: resolveSamplingPolicy({ negativesPerEpoch: catalog.series.length * 50 }),
    cropSize: options.crop,
    dtype: 'uint8',
    batchSize: options.batchSize,
  });
  const deps = benchStreamDeps('bench-wire-assembly');
  const assemble = async (seconds: number): Promise<number> => {
    let batches = 0;
    const started = performance.now();
    const timeLeft = () => performance.now() - started < seconds * 1000;
    while (timeLeft()) {
      for await (const ready of streamReadyBatches(request, new AbortController().signal, deps)) {
        ready.release();
        batches += 1;
        if (!timeLeft()) break;
      }
    }
    return batches / ((performance.now() - started) / 1000);
  };
  const [s0, s1, s2] = options.crop;
  const batchBytes = 2 * options.batchSize * s0 * s1 * s2;
  const sourceBytes = Math.max(Math.round(catalog.decodedBytes / catalog.series.length), 2 * batchBytes);
  const source = Buffer.allocUnsafeSlow(sourceBytes).fill(3);
  const target = Buffer.allocUnsafeSlow(batchBytes);
  const copy = (seconds: number): number => {
    let copies = 0;
    let offset = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      source.copy(target, 0, offset, offset + batchBytes);
      offset = (offset + 4096 * 7) % (sourceBytes - batchBytes);
      copies += 1;
    }
    return copies / ((performance.now() - started) / 1000);
  };
  // One whole epoch loads every series (the cache holds them all), then a short run of each warms the JIT.
  for await (const ready of streamReadyBatches(request, new AbortController().signal, deps)) ready.release();
  await assemble(0.3);
  copy(0.3);
  const assembled: number[] = [];
  const copied: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    // Alternate which goes first, so a slow spell of the machine does not always fall on the same one.
    if (round % 2 === 0) {
      assembled.push(await assemble(options.seconds));
      copied.push(copy(options.seconds));
    } else {
      copied.push(copy(options.seconds));
      assembled.push(await assemble(options.seconds));
    }
  }
  return { batchBytes, sourceBytes, assembled, copied };
}
