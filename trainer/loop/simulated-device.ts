import type { FeedBatch } from '@voxelfeed/client';
import type { StepResult, StepRunner } from './step-runner.js';

/**
 * A stand-in for a GPU that takes a fixed time per batch without using the CPU (a timer, as an asynchronous
 * device would), so a benchmark of the data path measures the data path alone. It knows exactly when each step
 * ends (launch + stepMs), even if the JavaScript thread only notices later. `prepare` does the host work a real
 * trainer does: uint8 voxels to float32 / 255.
 */
export class SimulatedDevice implements StepRunner<Float32Array> {
  readonly overlapsHost = true;
  private busyUntil = 0;

  constructor(
    private readonly stepMs: number,
    private readonly now: () => number,
  ) {}

  prepare(batch: FeedBatch): Float32Array {
    // A copy either way, as a device upload is: the batch's arrays may be reused for the next batch.
    return batch.image instanceof Float32Array ? batch.image.slice() : toUnitFloat(batch.image);
  }

  execute(): Promise<StepResult> {
    // A device queue: a step launched while the previous one runs starts when that one ends.
    const start = Math.max(this.now(), this.busyUntil);
    const finishedAt = start + this.stepMs / 1000;
    this.busyUntil = finishedAt;
    const delayMs = Math.max(0, (finishedAt - this.now()) * 1000);
    return new Promise((resolve) => setTimeout(() => resolve({ loss: 0, finishedAt }), delayMs));
  }
}

function toUnitFloat(voxels: Uint8Array): Float32Array {
  const out = new Float32Array(voxels.length);
  for (let i = 0; i < voxels.length; i++) out[i] = voxels[i]! / 255;
  return out;
}
