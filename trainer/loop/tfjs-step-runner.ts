import * as tf from '@tensorflow/tfjs-core';
import type { FeedBatch } from '@voxelfeed/client';
import type { ProcessGroup } from '../collective/process-group.js';
import { foregroundProbability } from '../model/foreground.js';
import { batchDice, type DiceBceWeights, diceBceLoss } from '../model/losses.js';
import type { VNet } from '../model/vnet.js';
import { averageGradients } from './average-gradients.js';
import type { BatchEvaluator, StepResult, StepRunner } from './step-runner.js';

export interface PreparedBatch {
  readonly x: tf.Tensor5D;
  readonly y: tf.Tensor4D;
}

/**
 * One V-Net training step on TensorFlow.js: the batch becomes float32 input `[B, s0, s1, s2, 1]` (voxel / 255)
 * and a float mask `[B, s0, s1, s2]`; the step is one Adam update on soft Dice + BCE; it is finished when the
 * loss value is back on the host (`data()` waits for the device).
 *
 * With several ranks the gradients are averaged over them before the update (`averageGradients`), so every rank
 * applies the same update to the same weights. The exchange waits on the network, so a step's update lands
 * after `execute` returns: steps are chained, each computing its gradients only once the previous update is in.
 */
export class TfjsStepRunner implements StepRunner<PreparedBatch>, BatchEvaluator {
  private previous: Promise<unknown> = Promise.resolve();
  private nextStep: number;

  /**
   * @param overlapsHost true on a GPU backend, whose kernels run beside the JavaScript thread; false on the CPU
   *   and WASM backends, which compute on it.
   * @param options.group averages the gradients over the ranks (absent: one rank, no exchange);
   *   options.firstStep labels the first exchange (the global step it trains).
   */
  constructor(
    private readonly model: VNet,
    private readonly optimizer: tf.Optimizer,
    readonly overlapsHost: boolean,
    private readonly weights?: DiceBceWeights,
    private readonly options: { readonly group?: ProcessGroup; readonly firstStep?: number } = {},
  ) {
    this.nextStep = options.firstStep ?? 0;
  }

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

  execute(prepared: PreparedBatch): Promise<StepResult> {
    const step = this.nextStep++;
    // One rank: the update is queued on the device at once, so the next step may be queued behind it.
    if ((this.options.group?.worldSize ?? 1) === 1) return this.trainAlone(prepared);
    const result = this.previous.then(
      () => this.train(prepared, step),
      () => this.train(prepared, step),
    );
    this.previous = result.catch(() => {});
    return result;
  }

  private async trainAlone(prepared: PreparedBatch): Promise<StepResult> {
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

  /** Several ranks: gradients, their mean over the ranks, then the update. */
  private async train(prepared: PreparedBatch, step: number): Promise<StepResult> {
    const group = this.options.group;
    // The batch Dice comes from the same forward pass as the loss; it is kept out of the gradient (the loss
    // does not depend on it) and read back together with the loss.
    let dice: tf.Scalar | null = null;
    const variables = [...this.model.trainableVariables];
    let computed: { value: tf.Scalar; grads: tf.NamedTensorMap } | null = null;
    try {
      computed = tf.variableGrads(() => {
        const logits = this.model.apply(prepared.x, true);
        dice = tf.keep(batchDice(foregroundProbability(logits), prepared.y));
        return diceBceLoss(logits, prepared.y, this.weights);
      }, variables);
      const [loss] = await computed.value.data();
      let meanLoss = loss!;
      let allReduceSeconds = 0;
      if (group !== undefined) {
        const before = group.allReduceSeconds;
        const averaged = await averageGradients(group, variables, computed.grads, loss!, step);
        tf.dispose(computed.grads);
        computed.grads = averaged.grads;
        meanLoss = averaged.meanLoss;
        allReduceSeconds = group.allReduceSeconds - before;
      }
      this.optimizer.applyGradients(computed.grads);
      const diceValue = dice === null ? undefined : (await (dice as tf.Scalar).data())[0];
      return {
        loss: loss!,
        ...(group !== undefined ? { meanLoss, allReduceSeconds } : {}),
        ...(diceValue === undefined ? {} : { dice: diceValue }),
      };
    } finally {
      (dice as tf.Scalar | null)?.dispose();
      if (computed !== null) tf.dispose([computed.value, computed.grads]);
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
