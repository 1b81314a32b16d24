import * as tf from '@tensorflow/tfjs-core';

/**
 * A batch of two 8x16x16 crops with 4 channels and a 3x3x3 kernel, the first stage of VNET_TINY: small models
 * are what runs on a host without TensorFlow. At this size a conv costs about as much as the norm, PReLU and
 * reduction work around it, as in a real step, so the probe ranks the backends as a training step does (on a
 * 2-core x86 host: probe WASM 1.5x faster than CPU, VNET_TINY step 1.8 to 2x). A conv3d alone would not: both
 * backends run it as naive loops at the same speed.
 */
const PROBE_INPUT: [number, number, number, number, number] = [2, 8, 16, 16, 4];
const PROBE_KERNEL: [number, number, number, number, number] = [3, 3, 3, 4, 4];
const MAX_RUNS = 5;

export interface ProbeResult {
  /** The fastest timed run in milliseconds (the least disturbed by other work on the machine). */
  readonly bestMs: number;
  readonly runs: number;
  /** Wall time of the whole probe, warm-up included. */
  readonly totalMs: number;
}

/**
 * Times a miniature V-Net training step on the current backend: a 'same' conv3d with its two gradients plus
 * the broadcasts and per-channel reductions of normalisation, residual and PReLU. One untimed warm-up (WASM
 * compiles lazily), then up to 5 timed runs while `budgetMs` lasts; each run waits for its result (`data()`),
 * so asynchronous backends are timed fully. About 0.1 s per backend on a JavaScript backend.
 */
export async function probeConv3d(budgetMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const x = tf.randomNormal(PROBE_INPUT, 0, 1, 'float32', 1) as tf.Tensor5D;
  const kernel = tf.randomNormal(PROBE_KERNEL, 0, 0.1, 'float32', 2) as tf.Tensor5D;
  const alpha = tf.fill([PROBE_KERNEL[4]], 0.25) as tf.Tensor1D;
  const once = async (): Promise<void> => {
    const result = tf.tidy(() => {
      // Forward: conv, normalisation over the spatial axes, residual, PReLU.
      const y = tf.conv3d(x, kernel, 1, 'same');
      const { mean, variance } = tf.moments(y, [1, 2, 3], true);
      const z = tf.prelu(tf.add(tf.mul(tf.sub(y, mean), tf.rsqrt(tf.add(variance, 1e-5))), x), alpha);
      // Backward: the elementwise products and per-channel sums of the norm and PReLU gradients, the filter
      // gradient kernel and the input gradient as a conv (see trainer/model/conv3d-same.ts).
      const channelSums = tf.sum(tf.mul(tf.mul(z, y), tf.sub(z, x)), [0, 1, 2, 3]);
      const inputs: tf.NamedTensorMap = { x, dy: z };
      const attrs = { strides: [1, 1, 1, 1, 1], pad: 'same', filterShape: PROBE_KERNEL };
      const dw = tf.engine().runKernel(tf.Conv3DBackpropFilterV2, inputs, attrs) as tf.Tensor;
      const dx = tf.conv3d(z as tf.Tensor5D, kernel, 1, 'same');
      return tf.addN([tf.sum(dw), tf.sum(dx), tf.sum(channelSums)]);
    });
    await result.data();
    result.dispose();
  };
  try {
    await once();
    let bestMs = Number.POSITIVE_INFINITY;
    let runs = 0;
    while (runs < MAX_RUNS && (runs === 0 || performance.now() - start < budgetMs)) {
      const t0 = performance.now();
      await once();
      bestMs = Math.min(bestMs, performance.now() - t0);
      runs++;
    }
    return { bestMs, runs, totalMs: performance.now() - start };
  } finally {
    tf.dispose([x, kernel, alpha]);
  }
}
