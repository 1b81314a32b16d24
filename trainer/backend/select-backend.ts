import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';
import type { BackendPreference } from './backend-preference.js';
import { type ImportModule, importByName, loadNativeBackend } from './load-native-backend.js';
import { type ProbeResult, probeConv3d } from './probe-conv3d.js';
import { silenceCpuBanner } from './silence-cpu-banner.js';

export type { BackendPreference } from './backend-preference.js';

export interface BackendChoice {
  /** The tfjs backend now active: 'tensorflow', 'wasm' or 'cpu'. */
  readonly name: string;
  readonly gpu: boolean;
  /** Why this backend: what was tried, what failed, what the probe measured. */
  readonly detail: string;
}

export interface SelectBackendOptions {
  /** Loads tfjs-node(-gpu); tests pass a fake. */
  readonly importModule?: ImportModule;
  /** Wall time allowed to the WASM-versus-CPU probe, both backends together. */
  readonly probeBudgetMs?: number;
}

export const DEFAULT_PROBE_BUDGET_MS = 1500;

const stderrLog = (message: string): void => {
  process.stderr.write(`${message}\n`);
};

/**
 * Picks and activates the fastest tfjs backend this host can run, and logs the choice with its reason.
 *
 * 'auto': `@tensorflow/tfjs-node-gpu` if it loads and TensorFlow registers a GPU device; a tfjs-node-gpu that
 * loads without a GPU (CUDA missing: it falls back silently) is kept as TensorFlow's CPU backend, because a
 * second libtensorflow (tfjs-node's) cannot be loaded into the same process anyway; else `@tensorflow/tfjs-node`;
 * else WASM or CPU, whichever runs a small conv3d probe faster (the probe stays within `probeBudgetMs`).
 * 'tensorflow' fails unless a tfjs-node package loads; 'wasm' and 'cpu' take that backend as is.
 */
export async function selectBackend(
  preference: BackendPreference = 'auto',
  log: (message: string) => void = stderrLog,
  options: SelectBackendOptions = {},
): Promise<BackendChoice> {
  const choice = await choose(preference, options);
  log(`tfjs backend: ${choice.name}${choice.gpu ? ' (GPU)' : ''}: ${choice.detail}`);
  return choice;
}

async function choose(preference: BackendPreference, options: SelectBackendOptions): Promise<BackendChoice> {
  if (preference === 'wasm' || preference === 'cpu') {
    await activate(preference);
    return { name: preference, gpu: false, detail: `${preference} requested` };
  }
  const importModule = options.importModule ?? importByName;
  const budgetMs = options.probeBudgetMs ?? DEFAULT_PROBE_BUDGET_MS;
  const gpuLoad = await loadNativeBackend('@tensorflow/tfjs-node-gpu', importModule);
  if (gpuLoad.loaded) {
    const probe = await probeNative('@tensorflow/tfjs-node-gpu', budgetMs);
    return { name: 'tensorflow', gpu: gpuLoad.gpu, detail: `${gpuLoad.detail}; ${probe}` };
  }
  const cpuLoad = await loadNativeBackend('@tensorflow/tfjs-node', importModule);
  if (cpuLoad.loaded) {
    const probe = await probeNative('@tensorflow/tfjs-node', budgetMs);
    return { name: 'tensorflow', gpu: false, detail: `${gpuLoad.detail}; ${cpuLoad.detail}; ${probe}` };
  }
  const tried = `${gpuLoad.detail}; ${cpuLoad.detail}`;
  if (preference === 'tensorflow') {
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `backend 'tensorflow' requested but no TensorFlow binding loads (${tried}); ` +
        'install @tensorflow/tfjs-node-gpu@4.22.0 or @tensorflow/tfjs-node@4.22.0 (trainer/README.md) or use --backend auto',
    );
  }
  const wasm = await probeOn('wasm', budgetMs / 2);
  const cpu = await probeOn('cpu', budgetMs / 2);
  const winner = wasm !== undefined && (cpu === undefined || wasm.bestMs <= cpu.bestMs) ? 'wasm' : 'cpu';
  await activate(winner);
  return {
    name: winner,
    gpu: false,
    detail: `${tried}; conv3d probe: ${describe('wasm', wasm)}, ${describe('cpu', cpu)}`,
  };
}

async function activate(name: 'wasm' | 'cpu'): Promise<void> {
  if (!(await tf.setBackend(name))) {
    throw new VoxelfeedError('INTERNAL', `the tfjs ${name} backend failed to initialise`);
  }
  await tf.ready();
  silenceCpuBanner();
}

/**
 * Runs the conv3d probe on the freshly loaded TensorFlow backend: a GPU that registers but cannot run kernels
 * (a driver too old for the CUDA 11.2 build, a failed PTX JIT) fails here, at start-up, with the fix in the
 * message, rather than in the first training step.
 */
async function probeNative(pkg: string, budgetMs: number): Promise<string> {
  try {
    return describe('conv3d probe', await probeConv3d(budgetMs));
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `${pkg} loaded but a conv3d probe failed on it (${message}); check the CUDA 11.2 / cuDNN 8.1 install ` +
        '(trainer/README.md), or hide the GPU with CUDA_VISIBLE_DEVICES= to run on the CPU',
      { cause: error },
    );
  }
}

/** The probe on one backend, or undefined when that backend does not initialise here. */
async function probeOn(name: 'wasm' | 'cpu', budgetMs: number): Promise<ProbeResult | undefined> {
  try {
    await activate(name);
  } catch {
    return undefined;
  }
  return probeConv3d(budgetMs);
}

function describe(name: string, result: ProbeResult | undefined): string {
  if (result === undefined) return `${name} unavailable`;
  return `${name} ${result.bestMs.toFixed(1)} ms (best of ${result.runs})`;
}
