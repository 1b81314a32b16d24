import { availableParallelism } from 'node:os';
import { PlanCache } from '../server/batches/plan-cache.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { resolveSamplingPolicy } from '../server/sampling/sampling-policy.js';
import type { Shape3 } from '../server/sampling/types.js';
import { CropWorkers } from '../server/workers/crop-workers.js';
import { benchStreamDeps, benchStreamRequest } from './in-process-stream.js';

/** The largest source the working-set memcpy reads from: the decoded data set, up to this. */
const MAX_WORKING_SET_BYTES = 1024 * 1024 * 1024;

export interface AssemblyResult {
  /** Image and mask bytes of one batch: what the memcpy copies each time. */
  readonly batchBytes: number;
  /** Bytes of the source the hot memcpy copies from: one decoded volume (image and mask). */
  readonly sourceBytes: number;
  /** Bytes of the source the working-set memcpy copies from: the decoded data set (capped at 1 GiB). */
  readonly workingSetBytes: number;
  /** Crop worker threads of the pool run beside the main thread. */
  readonly poolThreads: number;
  /** Per round, alternating: batches/s of the server's pipeline on the main thread (`--workers 0`). */
  readonly assembled: readonly number[];
  /** The same with a pool of `poolThreads` crop workers cutting. */
  readonly assembledPool: readonly number[];
  /** Copies/s of `batchBytes` from a volume-sized source (which the cache keeps warm). */
  readonly copied: readonly number[];
  /** Copies/s of `batchBytes` from a source as large as the decoded data set, as crops read theirs. */
  readonly copiedWorkingSet: readonly number[];
}

/**
 * In-process assembly against a memcpy of the same bytes: batches/s of the server's batch pipeline from a
 * warm cache (streamReadyBatches: plan, prefetch, cut, encode into wire-ready buffers, as
 * in-process-crops.ts runs it), on the main thread and with a pool of crop workers, against `Buffer.copy` of a
 * batch's tensor bytes into one batch buffer, from a moving offset of (a) a volume-sized source, mostly in
 * the CPU's caches, and (b) a source as large as the decoded data set, which crops read from, so it comes
 * from DRAM. The ratio says how far cutting crops is from the cost of moving their bytes once. The four
 * measurements alternate in one process, their order reversed every other round.
 */
export async function benchAssembly(
  dir: string,
  options: { seconds: number; batchSize: number; crop: Shape3; rounds: number; poolThreads?: number },
): Promise<AssemblyResult> {
  const catalog = await buildCatalog({ source: dir });
  const poolThreads = options.poolThreads ?? availableParallelism();
  const workers = new CropWorkers({ threads: poolThreads });
  try {
    const cache = new VolumeCache<number>({
      maxBytes: catalog.decodedBytes + 1024,
      load: (index) => loadCatalogVolume(catalog.series[index]!),
    });
    const requestWith = (pool: CropWorkers | undefined) =>
      benchStreamRequest({
        datasetName: catalog.name,
        dataset: { catalog, cache, plans: new PlanCache(catalog.series), workers: pool },
        policy: resolveSamplingPolicy({ negativesPerEpoch: catalog.series.length * 50 }),
        cropSize: options.crop,
        dtype: 'uint8',
        batchSize: options.batchSize,
      });
    const onMain = requestWith(undefined);
    const inPool = requestWith(workers);
    const deps = benchStreamDeps('bench-wire-assembly');
    const assemble = async (request: typeof onMain, seconds: number): Promise<number> => {
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
    const workingSetBytes = Math.max(Math.min(catalog.decodedBytes, MAX_WORKING_SET_BYTES), sourceBytes);
    const hotSource = Buffer.allocUnsafeSlow(sourceBytes).fill(3);
    const workingSet = Buffer.allocUnsafeSlow(workingSetBytes).fill(3);
    const target = Buffer.allocUnsafeSlow(batchBytes);
    const copy = (source: Buffer, seconds: number): number => {
      let copies = 0;
      let offset = 0;
      const started = performance.now();
      while (performance.now() - started < seconds * 1000) {
        source.copy(target, 0, offset, offset + batchBytes);
        // Step past the bytes just read, so the large source is not served from the caches either.
        offset = (offset + batchBytes + 4096 * 7) % (source.length - batchBytes);
        copies += 1;
      }
      return copies / ((performance.now() - started) / 1000);
    };
    // One whole epoch loads every series (the cache holds them all), then a short run of each warms the JIT.
    for await (const ready of streamReadyBatches(onMain, new AbortController().signal, deps)) ready.release();
    await assemble(onMain, 0.3);
    await assemble(inPool, 0.3);
    copy(hotSource, 0.3);
    copy(workingSet, 0.3);
    const result = {
      assembled: [] as number[],
      assembledPool: [] as number[],
      copied: [] as number[],
      copiedWorkingSet: [] as number[],
    };
    const steps: (() => Promise<void>)[] = [
      async () => void result.assembled.push(await assemble(onMain, options.seconds)),
      async () => void result.copied.push(copy(hotSource, options.seconds)),
      async () => void result.assembledPool.push(await assemble(inPool, options.seconds)),
      async () => void result.copiedWorkingSet.push(copy(workingSet, options.seconds)),
    ];
    for (let round = 0; round < options.rounds; round++) {
      // Reverse the order every other round, so a slow spell of the machine does not always fall on the same one.
      for (const step of round % 2 === 0 ? steps : [...steps].reverse()) await step();
    }
    return { batchBytes, sourceBytes, workingSetBytes, poolThreads, ...result };
  } finally {
    await workers.close();
  }
}
