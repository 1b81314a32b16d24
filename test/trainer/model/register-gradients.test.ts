import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('registerTfjsGradients', () => {
  it('registers the gradients in a process that loads tsx the way bin/voxelfeed-dev.js does (ESM loader only)', async () => {
    // `node --import tsx` (the test runner's way) also installs tsx's CommonJS hook, which would hide a
    // dependence on it; bin/voxelfeed-dev.js calls tsx/esm/api's register() alone.
    const code = `
      import { register } from 'tsx/esm/api';
      register();
      const tf = await import('@tensorflow/tfjs-core');
      const { registerTfjsGradients } = await import('./trainer/model/register-gradients.ts');
      const before = tf.getGradient('Conv3D') !== undefined;
      registerTfjsGradients();
      registerTfjsGradients();
      console.log(JSON.stringify({ before, after: ['Conv3D', 'Prelu', 'Mean', 'Log1p'].map((k) => tf.getGradient(k) !== undefined) }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: root });
    assert.deepEqual(JSON.parse(stdout), { before: false, after: [true, true, true, true] });
  });
});
