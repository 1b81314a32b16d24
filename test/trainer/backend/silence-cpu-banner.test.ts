import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

/** A fresh process (the banner is printed once per process) that creates one tensor on the CPU backend. */
async function stderrOfFirstCpuTensor(silence: boolean): Promise<string> {
  const code = `
    import * as tf from '@tensorflow/tfjs-core';
    import '@tensorflow/tfjs-backend-cpu';
    import { silenceCpuBanner } from './trainer/backend/silence-cpu-banner.ts';
    await tf.setBackend('cpu');
    if (process.argv[1] === 'silence') silenceCpuBanner();
    tf.scalar(1).dispose();
    // tfjs's own warnings must still print afterwards: registering a kernel twice is one.
    tf.registerKernel(tf.getKernel('Abs', 'cpu'));
  `;
  const args = ['--import', 'tsx', '--input-type=module', '-e', code, silence ? 'silence' : 'plain'];
  const { stderr } = await run(process.execPath, args, { cwd: root });
  return stderr;
}

describe('silenceCpuBanner', () => {
  it("keeps tfjs-backend-cpu's install-tfjs-node banner off stderr, which it prints otherwise", async () => {
    const [silenced, plain] = await Promise.all([
      stderrOfFirstCpuTensor(true),
      stderrOfFirstCpuTensor(false),
    ]);
    assert.match(plain, /Hi, looks like you are running TensorFlow\.js in Node\.js/);
    assert.doesNotMatch(silenced, /Hi, looks like/);
    assert.match(silenced, /The kernel 'Abs' for backend 'cpu' is already registered/);
  });
});
