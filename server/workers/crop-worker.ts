// The entry of a crop worker thread (CropWorkers starts these through piscina): cuts a batch's crops into
// its shared buffer, and reads and decodes volumes into shared memory. Its scratch for float32 crops and its
// collection timer are the state it keeps between tasks.
import { parentPort, threadId } from 'node:worker_threads';
import { exposeGarbageCollector } from '../batches/expose-garbage-collector.js';
import { loadSeriesVolume } from '../dataset/loading/load-series-volume.js';
import { type CropTargets, cutSeriesCrops } from './cut-series-crops.js';
import { toWorkerError } from './worker-error.js';
import type { SharedRange, WorkerAnswer, WorkerLoadedMessage, WorkerTask } from './worker-tasks.js';
import { fromSharedVolume, WORKER_LOADED } from './worker-tasks.js';

/** A collection this long after the last task, so an idle worker holds no memory the server gave up. */
const IDLE_COLLECT_MS = 100;

const collect = exposeGarbageCollector();
let idleTimer: NodeJS.Timeout | undefined;

parentPort?.postMessage({ kind: WORKER_LOADED, threadId } satisfies WorkerLoadedMessage);

export default async function runTask(task: WorkerTask): Promise<WorkerAnswer<unknown>> {
  try {
    return { ok: true, value: await run(task) };
  } catch (error) {
    return { ok: false, error: toWorkerError(error) };
  } finally {
    scheduleCollection();
  }
}

/**
 * Every task leaves handles of shared memory in this thread's heap: the batch buffer it wrote, the volume it
 * read. A SharedArrayBuffer is freed only once every thread has collected its handles, and a worker allocates
 * too little to collect on its own, so without this a batch buffer the server dropped, or a volume the cache
 * evicted, would stay in memory for as long as the worker lives. So a worker idle for 100 ms runs a full
 * collection. While tasks keep coming, V8's own young-generation collections (every few thousand tasks) free
 * the handles of all but the latest tasks; a full collection once a second there cut a burst of 12 streams of
 * 19 MB batches to a few batches in 8 s (measured on 2 busy cores), so there is none.
 */
function scheduleCollection(): void {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(collect, IDLE_COLLECT_MS);
  idleTimer.unref();
}

async function run(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'cut': {
      const targets: CropTargets = {
        image: view(task.buffer, task.image),
        mask: task.mask === null ? null : view(task.buffer, task.mask),
        voxels: task.voxels,
        dtype: task.dtype,
        padValue: task.padValue,
        keepLabels: task.keepLabels,
      };
      return task.parts.map((part) =>
        cutSeriesCrops(fromSharedVolume(part.volume), part.samples, part.slots, targets),
      );
    }
    case 'load':
      return await loadSeriesVolume(task.imagePath, task.maskPath);
  }
}

function view(buffer: SharedArrayBuffer, range: SharedRange): Uint8Array {
  return new Uint8Array(buffer, range.byteOffset, range.byteLength);
}
