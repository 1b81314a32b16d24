import type { FeedBatch } from '@voxelfeed/client';

/** A finished step: its loss, and when the device finished it if the device knows (timeline seconds). */
export interface StepResult {
  readonly loss: number;
  /** Dice of the thresholded prediction of this step's batch, when the runner computes it. */
  readonly dice?: number;
  /** The mean of every rank's loss of this step, when the runner averages over several ranks. */
  readonly meanLoss?: number;
  /** Seconds this step spent exchanging gradients with the other ranks (waiting plus transfer). */
  readonly allReduceSeconds?: number;
  readonly finishedAt?: number;
}

/**
 * What one training step does with a batch, in two phases so the trainer can time them apart: `prepare` turns
 * the batch into the device's input (host work), `execute` launches the step and resolves when the device has
 * finished it.
 *
 * `overlapsHost` says whether the device runs beside the JavaScript thread (a GPU, or the simulated device):
 * then the loop fetches and prepares batch k+1 while step k runs. A CPU or WASM backend computes on the
 * JavaScript thread itself, so there is nothing to overlap and the loop runs strictly step after step.
 */
export interface StepRunner<Prepared> {
  readonly overlapsHost: boolean;
  /**
   * The batch's input for the device. It must not keep `batch.image` or `batch.mask`: on the same-host path
   * the next batch is read into the same buffer once the loop asks for it, right after this returns.
   */
  prepare(batch: FeedBatch): Prepared;
  execute(prepared: Prepared): Promise<StepResult>;
  /** Frees a prepared input that will not be executed (the loop stopped early). */
  discard?(prepared: Prepared): void;
}

/** Evaluates a validation batch: the Dice of each sample's thresholded prediction against its mask. */
export interface BatchEvaluator {
  evaluate(batch: FeedBatch): Promise<number[]>;
}
