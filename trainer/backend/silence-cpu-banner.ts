import * as tf from '@tensorflow/tfjs-core';

/**
 * Keeps tfjs-backend-cpu from printing its "Hi, looks like you are running TensorFlow.js in Node.js ... install
 * our node backend" banner. The CPU backend prints it on its first tensor write when `IS_NODE` is set, through
 * tfjs's `warn()`, which is silent while the `PROD` flag is on. So `PROD` is raised around one tiny write and
 * restored at once: later tfjs warnings still show. Call it right after `tf.setBackend('cpu')`; it does nothing
 * on other backends or once the banner is out.
 */
export function silenceCpuBanner(): void {
  if (tf.getBackend() !== 'cpu') return;
  const env = tf.env();
  const previous = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.scalar(0).dispose();
  } finally {
    env.set('PROD', previous);
  }
}
