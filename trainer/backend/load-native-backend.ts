import * as tf from '@tensorflow/tfjs-core';

/** How a package is loaded; tests pass a fake. */
export type ImportModule = (specifier: string) => Promise<unknown>;

/**
 * A dynamic import through a variable, so TypeScript neither needs the optional packages' types nor resolves
 * them: `npm ci` never installs tfjs-node(-gpu), whose install script downloads libtensorflow.
 */
export const importByName: ImportModule = (specifier) => import(specifier);

export type NativePackage = '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node';

export interface NativeLoad {
  readonly loaded: boolean;
  /** True only when TensorFlow registered a GPU device (see `nativeBackendUsesGpu`). */
  readonly gpu: boolean;
  readonly detail: string;
}

/**
 * Imports a tfjs-node package (which registers and selects the 'tensorflow' backend as a side effect) and
 * reports whether it loaded and whether it runs on a GPU. Any failure, a missing package or a native library
 * that does not load, counts as absent: the caller falls back.
 */
export async function loadNativeBackend(pkg: NativePackage, importModule: ImportModule): Promise<NativeLoad> {
  try {
    await importModule(pkg);
  } catch (error) {
    return { loaded: false, gpu: false, detail: describeLoadFailure(pkg, error) };
  }
  if (tf.findBackendFactory('tensorflow') === null || !(await tf.setBackend('tensorflow'))) {
    return {
      loaded: false,
      gpu: false,
      detail: `${pkg} loaded but its 'tensorflow' backend did not initialise`,
    };
  }
  const gpu = nativeBackendUsesGpu(tf.backend());
  if (gpu === undefined) {
    return {
      loaded: true,
      gpu: false,
      detail: `${pkg} loaded; its backend does not say whether it uses a GPU`,
    };
  }
  return {
    loaded: true,
    gpu,
    detail: gpu
      ? `${pkg} loaded and TensorFlow registered a GPU device`
      : `${pkg} loaded but TensorFlow registered no GPU device (CUDA 11.2 / cuDNN 8.1 libraries missing or no GPU visible)`,
  };
}

/**
 * Whether a tfjs-node backend runs on a GPU: its `isUsingGpuDevice` flag (NodeJSKernelBackend, tfjs-node
 * 1.x to 4.22). The native binding sets it once, when the backend is created, from `TFE_ContextListDevices`:
 * true exactly when TensorFlow created a "GPU" device, which needs a visible NVIDIA GPU and every CUDA library
 * (cudart, cuBLAS, cuFFT, cuRAND, cuSOLVER, cuSPARSE, cuDNN) of the versions libtensorflow 2.9.1 was built
 * against to load. When one is missing, TensorFlow logs "Could not load dynamic library ..." and "Skipping
 * registering GPU devices", creates only the CPU device, and tfjs-node-gpu runs on the CPU without an error:
 * the flag is then false. This is reliable for "a GPU device exists"; it does not prove every op runs there
 * (ops without a GPU kernel are placed on the CPU silently), nor that the first kernels will not stall while
 * the driver JIT-compiles PTX for a GPU newer than the build. Returns undefined for a backend without the flag.
 */
export function nativeBackendUsesGpu(backend: unknown): boolean | undefined {
  if (typeof backend !== 'object' || backend === null) return undefined;
  const flag = (backend as { isUsingGpuDevice?: unknown }).isUsingGpuDevice;
  return typeof flag === 'boolean' ? flag : undefined;
}

function describeLoadFailure(pkg: string, error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(pkg);
  if (missing) return `${pkg} is not installed`;
  return `${pkg} failed to load: ${message.split('\n')[0]}`;
}
