import type { FeedBatch } from '../../client/feed-batch.js';
import type { StepRunner } from './step-runner.js';

/**
 * A stand-in for a GPU that takes a fixed time per batch without using the CPU (a timer, as an asynchronous
 * device would), so a benchmark of the data path measures the data path alone. `prepare` does the host work a
 * real trainer does: uint8 voxels to float32 / 255.
 */
export class SimulatedDevice implements StepRunner<Float32Array> {
  constructor(private readonly stepMs: number) {}

  prepare(batch: FeedBatch): Float32Array {
    const input = new Float32Array(batch.image.length);
    const image = batch.image;
    if (image instanceof Float32Array) input.set(image);
    else for (let i = 0; i < image.length; i++) input[i] = image[i]! / 255;
    return input;
  }

  execute(): Promise<number> {
    return new Promise((resolve) => setTimeout(() => resolve(0), this.stepMs));
  }
}
