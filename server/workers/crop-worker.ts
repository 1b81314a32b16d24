// The entry of a crop worker thread (CropWorkers starts these through piscina): cuts a batch's crops into
// its shared buffer, widens float32 batches, and reads and decodes volumes into shared memory. Its scratch
// for augmented crops is the one state it keeps between tasks.
import { parentPort } from 'node:worker_threads';
import { loadSeriesVolume } from '../dataset/loading/load-series-volume.js';
import { type CropTargets, cutSeriesCrops, type ScratchHolder } from './cut-series-crops.js';
import { widenFloat32 } from './widen-float32.js';
import { toWorkerError } from './worker-error.js';
import type { SharedRange, WorkerAnswer, WorkerTask } from './worker-tasks.js';
import { fromSharedVolume, WORKER_LOADED } from './worker-tasks.js';

const holder: ScratchHolder = { scratch: undefined };

parentPort?.postMessage(WORKER_LOADED);

export default async function runTask(task: WorkerTask): Promise<WorkerAnswer<unknown>> {
  try {
    return { ok: true, value: await run(task) };
  } catch (error) {
    return { ok: false, error: toWorkerError(error) };
  }
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
        cutSeriesCrops(fromSharedVolume(part.volume), part.samples, part.slots, targets, holder),
      );
    }
    case 'widen':
      widenFloat32(
        task.params,
        view(task.buffer, task.bytes),
        view(task.buffer, task.image),
        task.voxels,
        holder,
      );
      return null;
    case 'load':
      return await loadSeriesVolume(task.imagePath, task.maskPath);
  }
}

function view(buffer: SharedArrayBuffer, range: SharedRange): Uint8Array {
  return new Uint8Array(buffer, range.byteOffset, range.byteLength);
}
