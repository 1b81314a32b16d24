import { EventEmitter } from 'node:events';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { BatchMemory } from '../server/batches/batch-memory.js';
import type { StreamRequest } from '../server/batches/crop-request.js';
import type { EncodedBatch } from '../server/batches/encoded-batch.js';
import { PlanCache } from '../server/batches/plan-cache.js';
import { StreamAdmission } from '../server/batches/stream-admission.js';
import { streamReadyBatches } from '../server/batches/stream-ready-batches.js';
import { VolumeCache } from '../server/cache/volume-cache.js';
import { buildCatalog } from '../server/dataset/catalog/build-catalog.js';
import { loadCatalogVolume } from '../server/dataset/loading/load-catalog-volume.js';
import { silentLogger } from '../server/log/logger.js';
import { resolveSamplingPolicy } from '../server/sampling/sampling-policy.js';
import type { Shape3 } from '../server/sampling/types.js';
import { serveMessageStream } from '../server/service/serve-message-stream.js';
import { DEFAULT_SERVICE_LIMITS } from '../server/service/service-limits.js';
import { AllocationMeter, type AllocationReading } from './allocation-meter.js';
import { type AllocationSite, allocationSites } from './allocation-sites.js';
import { USUAL_AUGMENTATION } from './augment-crops.js';
import { benchStreamDeps, benchStreamRequest } from './in-process-stream.js';

export const ALLOCATION_CASES = ['uint8', 'float32', 'uint8, augmented', 'uint8, served'] as const;
export type AllocationCase = (typeof ALLOCATION_CASES)[number];

export interface AllocationsResult {
  readonly series: number;
  readonly batchesPerRound: number;
  readonly batchBytes: Record<AllocationCase, number>;
  /** Every round of every case, in the order run (the cases alternate round by round). */
  readonly rounds: Record<AllocationCase, AllocationReading[]>;
  readonly calibration: { heapRatio: number; externalRatio: number };
  /** Per case, one more round under the sampling heap profiler: JS heap bytes per batch by function. */
  readonly sites: Record<AllocationCase, AllocationSite[]>;
}

/**
 * What the server's batch pipeline allocates per batch from a warm cache (plan, take batch memory, cut,
 * encode; no network), and the garbage collection that costs: `uint8` and `float32` batches without
 * augmentation, `uint8, augmented` with the usual augmentation, and `uint8, served` written through the
 * streaming call's write path (serveMessageStream and its backpressure) to a call that reports each write
 * flushed on the next turn of the event loop. Cases alternate round by round in one process.
 */
export async function benchAllocations(
  dir: string,
  options: { batchSize: number; crop: Shape3; batchesPerRound: number; rounds: number },
): Promise<AllocationsResult> {
  const meter = new AllocationMeter();
  const catalog = await buildCatalog({ source: dir });
  const cache = new VolumeCache<number>({
    maxBytes: catalog.decodedBytes + 1024,
    load: (index) => loadCatalogVolume(catalog.series[index]!),
  });
  const plans = new PlanCache(catalog.series);
  // Enough samples for a round in one epoch, whatever the number of series.
  const negativesPerEpoch = options.batchesPerRound * options.batchSize;
  const plain = resolveSamplingPolicy({ negativesPerEpoch });
  const augmented = resolveSamplingPolicy({ negativesPerEpoch, augmentation: USUAL_AUGMENTATION });
  const memory = new BatchMemory({ budgetBytes: DEFAULT_SERVICE_LIMITS.batchMemoryBytes });
  const deps = benchStreamDeps('bench-allocations', memory);
  const request = (kase: AllocationCase): StreamRequest =>
    benchStreamRequest({
      datasetName: catalog.name,
      dataset: { catalog, cache, plans },
      policy: kase === 'uint8, augmented' ? augmented : plain,
      cropSize: options.crop,
      batchSize: options.batchSize,
      maxSteps: options.batchesPerRound,
      dtype: kase === 'float32' ? 'float32' : 'uint8',
    });
  const batchBytes = {} as Record<AllocationCase, number>;
  const run = async (kase: AllocationCase): Promise<void> => {
    const batches = streamReadyBatches(request(kase), new AbortController().signal, deps);
    if (kase === 'uint8, served') {
      await serveAll(batches, memory);
      return;
    }
    let sent = 0;
    for await (const ready of batches) {
      batchBytes[kase] = ready.batch.framed.byteLength;
      ready.release();
      sent += 1;
    }
    if (sent !== options.batchesPerRound) {
      throw new Error(`the epoch has ${sent} steps, fewer than ${options.batchesPerRound}; use more series`);
    }
  };
  // Every volume loaded, and every code path compiled, before anything is counted.
  for (const kase of ALLOCATION_CASES) await run(kase);
  batchBytes['uint8, served'] = batchBytes.uint8;
  const calibration = await meter.calibrate();
  const rounds = Object.fromEntries(ALLOCATION_CASES.map((kase) => [kase, []])) as unknown as Record<
    AllocationCase,
    AllocationReading[]
  >;
  for (let round = 0; round < options.rounds; round++) {
    for (const kase of ALLOCATION_CASES) rounds[kase].push(await meter.measure(() => run(kase)));
  }
  // After the measured rounds: the profiler slows the work it samples.
  const sites = {} as Record<AllocationCase, AllocationSite[]>;
  for (const kase of ALLOCATION_CASES) {
    const sampled = await allocationSites(() => run(kase));
    sites[kase] = sampled.map(({ site, bytes }) => ({ site, bytes: bytes / options.batchesPerRound }));
  }
  memory.dispose();
  return {
    sites,
    series: catalog.series.length,
    batchesPerRound: options.batchesPerRound,
    batchBytes,
    rounds,
    calibration,
  };
}

/** The batches through the service's write path, to a call that flushes each write on the next turn. */
async function serveAll(batches: ReturnType<typeof streamReadyBatches>, memory: BatchMemory): Promise<void> {
  const call = new FlushingCall();
  await serveMessageStream(
    call as unknown as ServerWritableStream<unknown, EncodedBatch['framed']>,
    {
      limits: { maxUnflushedBatches: DEFAULT_SERVICE_LIMITS.maxUnflushedBatches },
      log: silentLogger,
      admission: new StreamAdmission({ maxStreams: 1, maxStreamsPerPeer: 1 }),
    },
    { logFields: {}, messages: () => batches },
  );
  if (call.error !== undefined) throw call.error;
  // The last writes are flushed on the next turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (memory.stats().inUseBytes !== 0) throw new Error('a served batch was never released');
}

/** The part of a grpc-js server call that serveMessageStream uses; every write is flushed on the next turn. */
class FlushingCall extends EventEmitter {
  readonly writableNeedDrain = false;
  error: unknown;

  constructor() {
    super();
    this.on('error', (error) => {
      this.error = error;
    });
  }

  getPeer(): string {
    return '127.0.0.1:1';
  }

  write(_message: Buffer, flushed: () => void): boolean {
    setImmediate(flushed);
    return true;
  }

  end(): void {}
}
