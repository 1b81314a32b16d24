import * as tf from '@tensorflow/tfjs-core';
import { type BatchNormParams, batchNorm3d } from './batch-norm.js';
import { instanceNorm } from './instance-norm.js';
import type { ParameterStore } from './parameter-store.js';
import type { VNetConfig } from './vnet-config.js';

/** PReLU's initial slope for negative inputs, as in He et al. 2015 (the paper that introduced PReLU). */
export const PRELU_INITIAL_ALPHA = 0.25;

type Normalizer =
  | { readonly kind: 'none'; readonly bias: tf.Variable<tf.Rank.R1> }
  | {
      readonly kind: 'instance';
      readonly gamma: tf.Variable<tf.Rank.R1>;
      readonly beta: tf.Variable<tf.Rank.R1>;
    }
  | { readonly kind: 'batch'; readonly params: BatchNormParams };

/**
 * What follows every linear map of the V-Net (convolution, down- or up-convolution): a bias or a
 * normalisation (a bias before a normalisation would be subtracted again, so there is one or the other),
 * then a PReLU with one learnt slope per channel.
 */
export interface ConvUnit {
  readonly normalizer: Normalizer;
  readonly alpha: tf.Variable<tf.Rank.R1>;
}

export function createConvUnit(
  store: ParameterStore,
  prefix: string,
  channels: number,
  normalization: VNetConfig['normalization'],
): ConvUnit {
  const normalizer = createNormalizer(store, prefix, channels, normalization);
  const alpha = store.constant<tf.Rank.R1>(`${prefix}/prelu/alpha`, [channels], PRELU_INITIAL_ALPHA);
  return { normalizer, alpha };
}

function createNormalizer(
  store: ParameterStore,
  prefix: string,
  channels: number,
  normalization: VNetConfig['normalization'],
): Normalizer {
  switch (normalization) {
    case 'none':
      return { kind: 'none', bias: store.constant<tf.Rank.R1>(`${prefix}/bias`, [channels], 0) };
    case 'instance':
      return {
        kind: 'instance',
        gamma: store.constant<tf.Rank.R1>(`${prefix}/norm/gamma`, [channels], 1),
        beta: store.constant<tf.Rank.R1>(`${prefix}/norm/beta`, [channels], 0),
      };
    case 'batch':
      return {
        kind: 'batch',
        params: {
          gamma: store.constant<tf.Rank.R1>(`${prefix}/norm/gamma`, [channels], 1),
          beta: store.constant<tf.Rank.R1>(`${prefix}/norm/beta`, [channels], 0),
          movingMean: store.constant<tf.Rank.R1>(`${prefix}/norm/movingMean`, [channels], 0, false),
          movingVariance: store.constant<tf.Rank.R1>(`${prefix}/norm/movingVariance`, [channels], 1, false),
        },
      };
  }
}

/**
 * Bias or normalisation, then the residual (if any), then PReLU. Adding the residual before the activation
 * is the V-Net's (and ResNet's) order: the stage learns a correction to its input.
 */
export function applyConvUnit(
  linear: tf.Tensor5D,
  unit: ConvUnit,
  training: boolean,
  residual?: tf.Tensor5D,
): tf.Tensor5D {
  const { normalizer } = unit;
  let y: tf.Tensor5D;
  if (normalizer.kind === 'none') y = tf.add(linear, normalizer.bias);
  else if (normalizer.kind === 'instance') y = instanceNorm(linear, normalizer.gamma, normalizer.beta);
  else y = batchNorm3d(linear, normalizer.params, training);
  if (residual !== undefined) y = tf.add(y, residual);
  return tf.prelu<tf.Tensor>(y, unit.alpha) as tf.Tensor5D;
}

/**
 * He et al. 2015's initial standard deviation for a layer followed by PReLU with slope a:
 * sqrt(2 / ((1 + a^2) * fanIn)), which keeps the activations' variance steady through depth.
 */
export function heStd(fanIn: number): number {
  return Math.sqrt(2 / ((1 + PRELU_INITIAL_ALPHA ** 2) * fanIn));
}

/** Glorot and Bengio 2010's standard deviation for a linear layer (the head): sqrt(2 / (fanIn + fanOut)). */
export function glorotStd(fanIn: number, fanOut: number): number {
  return Math.sqrt(2 / (fanIn + fanOut));
}
