import * as tf from '@tensorflow/tfjs-core';
import type { FeedBatch } from '@voxelfeed/client';
import { foregroundProbability } from '../model/foreground.js';
import { batchDice, type DiceBceWeights, diceBceLoss } from '../model/losses.js';
import type { VNet } from '../model/vnet.js';
import type { BatchEvaluator, StepResult, StepRunner } from './step-runner.js';

export interface PreparedBatch {
  readonly x: tf.Tensor5D;
  readonly y: tf.Tensor4D;
}

/**
 * One V-Net training step on TensorFlow.js: the batch becomes float32 input `[B, s0, s1, s2, 1]` (voxel / 255)
 * and a float mask `[B, s0, s1, s2]`; the step is one Adam update on soft Dice + BCE; it is finished when the
 * loss value is back on the host (`data()` waits for the device).
 */
export class TfjsStepRunner implements StepRunner<PreparedBatch>, BatchEvaluator {
  /**
   * @param overlapsHost true on a GPU backend, whose kernels run beside the JavaScript thread; false on the CPU
   *   and WASM backends, which compute on it.
   */
  constructor(
    private readonly model: VNet,
    private readonly optimizer: tf.Optimizer,
    readonly overlapsHost: boolean,
    private readonly weights?: DiceBceWeights,
  ) {}

  prepare(batch: FeedBatch): PreparedBatch {
    const [b, s0, s1, s2] = batch.shape;
    if (batch.mask === null) throw new Error('training batches need masks: request include_mask');
    return tf.tidy(() => {
      const raw = tf.tensor(batch.image, [b, s0, s1, s2, 1], 'float32') as tf.Tensor5D;
      const x = batch.dtype === 'uint8' ? (tf.div(raw, 255) as tf.Tensor5D) : raw;
      const y = tf.tensor(batch.mask as Uint8Array, [b, s0, s1, s2], 'float32') as tf.Tensor4D;
      return { x, y };
    });
  }

  discard(prepared: PreparedBatch): void {
    prepared.x.dispose();
    prepared.y.dispose();
  }

  async execute(prepared: PreparedBatch): Promise<StepResult> {
    // The batch Dice comes from the same forward pass as the loss; it is kept out of the gradient (the loss
    // does not depend on it) and read back together with the loss.
    let dice: tf.Scalar | null = null;
    const loss = this.optimizer.minimize(
      () => {
        const logits = this.model.apply(prepared.x, true);
        dice = tf.keep(batchDice(foregroundProbability(logits), prepared.y));
        return diceBceLoss(logits, prepared.y, this.weights);
      },
      true,
      [...this.model.trainableVariables],
    );
    try {
      const [value] = await loss!.data();
      const diceValue = dice === null ? undefined : (await (dice as tf.Scalar).data())[0];
      return { loss: value!, ...(diceValue === undefined ? {} : { dice: diceValue }) };
    } finally {
      (dice as tf.Scalar | null)?.dispose();
      loss?.dispose();
      prepared.x.dispose();
      prepared.y.dispose();
    }
  }

  async evaluate(batch: FeedBatch): Promise<number[]> {
    const prepared = this.prepare(batch);
    try {
      const dice = tf.tidy(() => {
        const probabilities = this.model.predict(prepared.x);
        const perSample = [];
        for (let i = 0; i < batch.shape[0]; i++) {
          const p = tf.slice(probabilities, [i, 0, 0, 0], [1, -1, -1, -1]);
          const y = tf.slice(prepared.y, [i, 0, 0, 0], [1, -1, -1, -1]);
          perSample.push(batchDice(p, y));
        }
        return tf.stack(perSample);
      });
      const values = Array.from(await dice.data());
      dice.dispose();
      return values;
    } finally {
      prepared.x.dispose();
      prepared.y.dispose();
    }
  }
}
