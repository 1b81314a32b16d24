import type { FeedBatch } from '../../client/feed-batch.js';

/**
 * What one training step does with a batch, in two phases so the trainer can time them apart: `prepare` turns
 * the batch into the device's input (host work: the device is idle meanwhile), `execute` runs the step and
 * resolves when the device has finished it, with the step's loss.
 */
export interface StepRunner<Prepared> {
  prepare(batch: FeedBatch): Prepared;
  execute(prepared: Prepared): Promise<number>;
}

/** Evaluates a validation batch: the Dice of each sample's thresholded prediction against its mask. */
export interface BatchEvaluator {
  evaluate(batch: FeedBatch): Promise<number[]>;
}
