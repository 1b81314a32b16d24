import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import { checkCropDivisible } from './check-crop-divisible.js';
import { concatChannels } from './concat-channels.js';
import { applyConvUnit, type ConvUnit, createConvUnit, glorotStd, heStd } from './conv-unit.js';
import { conv3dSame } from './conv3d-same.js';
import { downConv3d } from './down-conv3d.js';
import { foregroundProbability } from './foreground.js';
import { createParameterStore, type ParameterStore } from './parameter-store.js';
import { registerTfjsGradients } from './register-gradients.js';
import { pointwiseConv3d, upConv3d } from './up-conv3d.js';
import { levelChannels, type ResolvedVNetConfig, resolveVNetConfig, type VNetConfig } from './vnet-config.js';

/** A V-Net whose parameters are `tf.Variable`s and whose forward pass is a plain function. */
export interface VNet {
  readonly config: ResolvedVNetConfig;
  /** Every variable under a stable name ('enc0/conv0/kernel'), batch-norm running statistics included. */
  readonly variables: Map<string, tf.Variable>;
  /** The variables an optimiser updates (running statistics excluded), for `optimizer.minimize(f, true, list)`. */
  readonly trainableVariables: readonly tf.Variable[];
  /**
   * Logits [B, s0, s1, s2, 1 | 2] of a float32 batch [B, s0, s1, s2, inChannels]; every side must be a multiple
   * of 2^(depth-1). `training` only matters for batch norm: batch statistics (and a running-statistics update)
   * in training, running statistics in inference.
   */
  apply(x: tf.Tensor5D, training: boolean): tf.Tensor5D;
  /** Foreground probabilities [B, s0, s1, s2] in inference mode. */
  predict(x: tf.Tensor5D): tf.Tensor4D;
  /** Trainable scalars: the usual "parameter count" (running statistics excluded). */
  parameterCount(): number;
  dispose(): void;
}

interface Stage {
  /** 1x1x1 map of the stage input onto the stage's channels; absent when the input adds as is (or broadcasts). */
  readonly projection?: tf.Variable<tf.Rank.R2>;
  readonly convs: readonly { readonly kernel: tf.Variable<tf.Rank.R5>; readonly unit: ConvUnit }[];
}

/** A down-convolution (kernel [2, 2, 2, C, 2C]) or an up-convolution (kernel [C_in, 8 C_out], see upConv3d). */
interface Resample<R extends tf.Rank> {
  readonly kernel: tf.Variable<R>;
  readonly unit: ConvUnit;
}

/**
 * Builds a V-Net (Milletari et al. 2016). Level l of depth d has C_l = baseChannels * 2^l channels.
 *
 * - Encoder stage l: convsPerStage[l] convolutions k x k x k, 'same' padding, each followed by bias or norm
 *   and PReLU; the stage input is added before the last PReLU (as is when its channels match or it has one
 *   channel, which broadcasts as the paper's replicated input does; else through a 1x1x1 projection). Then, on
 *   every level but the bottom one, a 2x2x2 stride-2 convolution to C_(l+1) channels + PReLU halves each side.
 * - Decoder stage l (from d-2 up to 0): a 2x2x2 stride-2 up-convolution to C_l channels + PReLU, concatenated
 *   with encoder stage l's output (2 C_l channels), then convsPerStage[l] convolutions at 2 C_l with the
 *   concatenation as residual.
 * - Head: a 1x1x1 convolution to 1 (sigmoid) or 2 (softmax) channels.
 */
export function createVNet(config: VNetConfig): VNet {
  const resolved = resolveVNetConfig(config);
  registerTfjsGradients();
  const store = createParameterStore(resolved.seed);
  const { depth, kernelSize, normalization } = resolved;
  const k3 = kernelSize ** 3;

  function stage(prefix: string, level: number, inChannels: number, channels: number): Stage {
    const convs = Array.from({ length: resolved.convsPerStage[level]! }, (_, i) => {
      const fanIn = k3 * (i === 0 ? inChannels : channels);
      const shape: [number, number, number, number, number] = [
        kernelSize,
        kernelSize,
        kernelSize,
        i === 0 ? inChannels : channels,
        channels,
      ];
      const kernel = store.normal<tf.Rank.R5>(`${prefix}/conv${i}/kernel`, shape, heStd(fanIn));
      return { kernel, unit: createConvUnit(store, `${prefix}/conv${i}`, channels, normalization) };
    });
    const addsAsIs = inChannels === channels || inChannels === 1;
    if (addsAsIs) return { convs };
    const projection = store.normal<tf.Rank.R2>(
      `${prefix}/projection/kernel`,
      [inChannels, channels],
      glorotStd(inChannels, channels),
    );
    return { projection, convs };
  }

  const encoder: Stage[] = [];
  const down: Resample<tf.Rank.R5>[] = [];
  for (let level = 0; level < depth; level++) {
    const inChannels = level === 0 ? resolved.inChannels : levelChannels(resolved, level);
    const channels = levelChannels(resolved, level);
    encoder.push(stage(`enc${level}`, level, inChannels, channels));
    if (level < depth - 1) down.push(downsample(store, `enc${level}/down`, channels, normalization));
  }
  const up: Resample<tf.Rank.R2>[] = [];
  const decoder: Stage[] = [];
  for (let level = depth - 2; level >= 0; level--) {
    const below =
      level === depth - 2 ? levelChannels(resolved, depth - 1) : 2 * levelChannels(resolved, level + 1);
    const channels = levelChannels(resolved, level);
    up[level] = upsample(store, `dec${level}/up`, below, channels, normalization);
    decoder[level] = stage(`dec${level}`, level, 2 * channels, 2 * channels);
  }
  const headIn = 2 * levelChannels(resolved, 0);
  const headOut = resolved.head === 'sigmoid' ? 1 : 2;
  const headKernel = store.normal<tf.Rank.R2>('head/kernel', [headIn, headOut], glorotStd(headIn, headOut));
  const headBias = store.constant<tf.Rank.R1>('head/bias', [headOut], 0);

  const variables = store.variables;
  const trainableVariables = [...variables.values()].filter((v) => v.trainable);

  function runStage(s: Stage, x: tf.Tensor5D, training: boolean): tf.Tensor5D {
    const residual = s.projection === undefined ? x : pointwiseConv3d(x, s.projection);
    let y = x;
    s.convs.forEach(({ kernel, unit }, i) => {
      const last = i === s.convs.length - 1;
      y = applyConvUnit(conv3dSame(y, kernel), unit, training, last ? residual : undefined);
    });
    return y;
  }

  function apply(x: tf.Tensor5D, training: boolean): tf.Tensor5D {
    checkInput(x, resolved);
    return tf.tidy(() => {
      const skips: tf.Tensor5D[] = [];
      let h = x;
      for (let level = 0; level < depth; level++) {
        h = runStage(encoder[level]!, h, training);
        const d = down[level];
        if (d === undefined) continue;
        skips.push(h);
        h = applyConvUnit(downConv3d(h, d.kernel), d.unit, training);
      }
      for (let level = depth - 2; level >= 0; level--) {
        const u = up[level]!;
        const upsampled = applyConvUnit(upConv3d(h, u.kernel), u.unit, training);
        h = runStage(decoder[level]!, concatChannels(upsampled, skips[level]!), training);
      }
      return tf.add(pointwiseConv3d(h, headKernel), headBias);
    });
  }

  return {
    config: resolved,
    variables,
    trainableVariables,
    apply,
    predict: (x) => tf.tidy(() => foregroundProbability(apply(x, false))),
    parameterCount: () => trainableVariables.reduce((sum, v) => sum + v.size, 0),
    dispose: () => {
      for (const v of variables.values()) v.dispose();
    },
  };
}

function downsample(
  store: ParameterStore,
  prefix: string,
  channels: number,
  normalization: VNetConfig['normalization'],
): Resample<tf.Rank.R5> {
  const kernel = store.normal<tf.Rank.R5>(
    `${prefix}/kernel`,
    [2, 2, 2, channels, 2 * channels],
    heStd(8 * channels),
  );
  return { kernel, unit: createConvUnit(store, prefix, 2 * channels, normalization) };
}

/** Each output voxel of a 2x2x2 stride-2 up-convolution sees exactly one input voxel: fan-in C_in. */
function upsample(
  store: ParameterStore,
  prefix: string,
  inChannels: number,
  channels: number,
  normalization: VNetConfig['normalization'],
): Resample<tf.Rank.R2> {
  const kernel = store.normal<tf.Rank.R2>(`${prefix}/kernel`, [inChannels, 8 * channels], heStd(inChannels));
  return { kernel, unit: createConvUnit(store, prefix, channels, normalization) };
}

function checkInput(x: tf.Tensor, config: ResolvedVNetConfig): void {
  if (x.rank !== 5 || x.shape[4] !== config.inChannels || x.dtype !== 'float32') {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `V-Net input is ${x.dtype} [${x.shape}]; expected float32 [batch, s0, s1, s2, ${config.inChannels}]`,
    );
  }
  checkCropDivisible(x.shape.slice(1, 4), config.depth);
}
