import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';

/**
 * The shape of a V-Net (Milletari, Navab and Ahmadi 2016, "V-Net: Fully Convolutional Neural Networks for
 * Volumetric Medical Image Segmentation"). Resolution level l (0 = full resolution) has
 * `baseChannels * 2^l` channels in the encoder and twice that in the decoder (up-convolution plus skip).
 */
export interface VNetConfig {
  readonly inChannels: number;
  /** Channels of the first stage: 16 in the paper. */
  readonly baseChannels: number;
  /** Resolution stages, the bottom one included: 5 in the paper (16, 32, 64, 128, 256 channels). */
  readonly depth: number;
  /** Side of the cubic convolution kernel inside a stage: 5 in the paper. */
  readonly kernelSize: number;
  /** Convolutions of stage l, used by its encoder and decoder stage alike: paper 1, 2, 3, 3, 3. */
  readonly convsPerStage?: readonly number[];
  /** After every convolution: none (the paper), per-sample instance norm, or batch norm with running statistics. */
  readonly normalization: 'none' | 'instance' | 'batch';
  /** 'sigmoid': one logit per voxel; 'softmax2': background and foreground logits, as in the paper. */
  readonly head: 'sigmoid' | 'softmax2';
  /** Seeds every initial weight: equal seeds give equal weights. */
  readonly seed: number;
}

/** A config with `convsPerStage` filled in and every value checked. */
export interface ResolvedVNetConfig extends VNetConfig {
  readonly convsPerStage: readonly number[];
}

/** The network of the paper: 16 to 256 channels over 5 levels, 5x5x5 kernels, 1/2/3/3/3 convolutions. */
export const VNET_PAPER: VNetConfig = {
  inChannels: 1,
  baseChannels: 16,
  depth: 5,
  kernelSize: 5,
  convsPerStage: [1, 2, 3, 3, 3],
  normalization: 'none',
  head: 'softmax2',
  seed: 1,
};

/** A V-Net small enough for unit tests and the CPU demo: 4 to 16 channels, 3x3x3 kernels, one conv per stage. */
export const VNET_TINY: VNetConfig = {
  inChannels: 1,
  baseChannels: 4,
  depth: 3,
  kernelSize: 3,
  convsPerStage: [1, 1, 1],
  normalization: 'instance',
  head: 'sigmoid',
  seed: 1,
};

const MAX_DEPTH = 8;

/** The paper's pattern 1, 2, 3, 3, ... for any depth. */
function defaultConvsPerStage(depth: number): number[] {
  return Array.from({ length: depth }, (_, level) => Math.min(level + 1, 3));
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 1;
}

/** Fills the defaults and checks every field; all problems are reported in one error. */
export function resolveVNetConfig(config: VNetConfig): ResolvedVNetConfig {
  const problems: string[] = [];
  if (!isPositiveInteger(config.inChannels)) {
    problems.push(`inChannels is ${config.inChannels}; use a positive integer (1 for CT)`);
  }
  if (!isPositiveInteger(config.baseChannels)) {
    problems.push(`baseChannels is ${config.baseChannels}; use a positive integer (16 in the paper)`);
  }
  const depthOk = Number.isSafeInteger(config.depth) && config.depth >= 2 && config.depth <= MAX_DEPTH;
  if (!depthOk) {
    problems.push(`depth is ${config.depth}; use an integer from 2 to ${MAX_DEPTH} (5 in the paper)`);
  }
  if (!isPositiveInteger(config.kernelSize) || config.kernelSize % 2 === 0) {
    problems.push(`kernelSize is ${config.kernelSize}; use an odd positive integer (5 in the paper)`);
  }
  const convsPerStage = config.convsPerStage ?? (depthOk ? defaultConvsPerStage(config.depth) : []);
  if (depthOk && convsPerStage.length !== config.depth) {
    problems.push(
      `convsPerStage has ${convsPerStage.length} values for depth ${config.depth}; give one per stage`,
    );
  }
  if (!convsPerStage.every(isPositiveInteger)) {
    problems.push(`convsPerStage is [${convsPerStage.join(', ')}]; each value must be a positive integer`);
  }
  if (!['none', 'instance', 'batch'].includes(config.normalization)) {
    problems.push(`normalization is '${config.normalization}'; use 'none', 'instance' or 'batch'`);
  }
  if (!['sigmoid', 'softmax2'].includes(config.head)) {
    problems.push(`head is '${config.head}'; use 'sigmoid' or 'softmax2'`);
  }
  if (!Number.isSafeInteger(config.seed)) {
    problems.push(`seed is ${config.seed}; use an integer`);
  }
  if (problems.length > 0) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `invalid V-Net config: ${problems.join('; ')}`);
  }
  return { ...config, convsPerStage: [...convsPerStage] };
}

/** Encoder channels of resolution level `level`. */
export function levelChannels(config: VNetConfig, level: number): number {
  return config.baseChannels * 2 ** level;
}

/**
 * The trainable parameters `createVNet(config).parameterCount()` will report, from the architecture alone: no
 * tensor is allocated, so it also sizes VNET_PAPER (65 M parameters, 260 MB of float32) cheaply.
 */
export function vnetParameterCount(config: VNetConfig): number {
  const c = resolveVNetConfig(config);
  const k3 = c.kernelSize ** 3;
  // PReLU slopes plus a bias (no norm) or gamma and beta (instance or batch norm); running stats don't train.
  const unit = (channels: number) => channels * (c.normalization === 'none' ? 2 : 3);
  const stage = (level: number, inChannels: number, channels: number) => {
    const convs = c.convsPerStage[level]!;
    const weights = k3 * inChannels * channels + (convs - 1) * k3 * channels * channels;
    const projection = inChannels === channels || inChannels === 1 ? 0 : inChannels * channels;
    return weights + convs * unit(channels) + projection;
  };
  let total = 0;
  for (let level = 0; level < c.depth; level++) {
    const channels = levelChannels(c, level);
    total += stage(level, level === 0 ? c.inChannels : channels, channels);
    if (level < c.depth - 1) total += 8 * channels * 2 * channels + unit(2 * channels);
  }
  for (let level = c.depth - 2; level >= 0; level--) {
    const channels = levelChannels(c, level);
    const below = level === c.depth - 2 ? levelChannels(c, c.depth - 1) : 2 * levelChannels(c, level + 1);
    total += below * 8 * channels + unit(channels) + stage(level, 2 * channels, 2 * channels);
  }
  const headOut = c.head === 'sigmoid' ? 1 : 2;
  return total + 2 * levelChannels(c, 0) * headOut + headOut;
}
