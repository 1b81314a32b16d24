import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { VoxelfeedError } from '../../../server/errors.js';
import { nativeBackendUsesGpu } from '../../../trainer/backend/load-native-backend.js';
import { DEFAULT_PROBE_BUDGET_MS, selectBackend } from '../../../trainer/backend/select-backend.js';

describe('selectBackend', () => {
  it('picks wasm or cpu on this machine, says why, and returns within its probe budget', async () => {
    const lines: string[] = [];
    const start = performance.now();
    const choice = await selectBackend('auto', (line) => lines.push(line));
    const elapsedMs = performance.now() - start;
    assert.ok(choice.name === 'wasm' || choice.name === 'cpu', choice.name);
    assert.equal(tf.getBackend(), choice.name);
    assert.equal(choice.gpu, false);
    assert.match(
      choice.detail,
      /@tensorflow\/tfjs-node-gpu is not installed; @tensorflow\/tfjs-node is not installed/,
    );
    assert.match(choice.detail, /conv3d probe: wasm [\d.]+ ms \(best of \d\), cpu [\d.]+ ms \(best of \d\)/);
    // The probe stops timing once its budget is spent; the rest is WASM start-up and one last run.
    assert.ok(elapsedMs < DEFAULT_PROBE_BUDGET_MS + 1500, `took ${elapsedMs} ms`);
    assert.deepEqual(lines, [`tfjs backend: ${choice.name}: ${choice.detail}`]);
  });

  it('takes the cpu or wasm backend when asked', async () => {
    for (const name of ['cpu', 'wasm'] as const) {
      const choice = await selectBackend(name, () => {});
      assert.deepEqual(choice, { name, gpu: false, detail: `${name} requested` });
      assert.equal(tf.getBackend(), name);
    }
  });

  it("refuses 'tensorflow' when no TensorFlow binding loads, naming both packages and the fix", async () => {
    await assert.rejects(
      selectBackend('tensorflow', () => {}),
      (error: unknown) =>
        error instanceof VoxelfeedError &&
        error.code === 'FAILED_PRECONDITION' &&
        error.message.includes('@tensorflow/tfjs-node-gpu is not installed') &&
        error.message.includes('@tensorflow/tfjs-node is not installed') &&
        error.message.includes('install @tensorflow/tfjs-node-gpu@4.22.0'),
    );
  });

  it('treats a binding that fails to load as absent and says why', async () => {
    const importModule = async (specifier: string): Promise<unknown> => {
      throw new Error(`${specifier}: libcudart.so.11.0: cannot open shared object file\n    at dlopen`);
    };
    const choice = await selectBackend('auto', () => {}, { importModule, probeBudgetMs: 200 });
    assert.ok(choice.name === 'wasm' || choice.name === 'cpu');
    assert.match(
      choice.detail,
      /^@tensorflow\/tfjs-node-gpu failed to load: @tensorflow\/tfjs-node-gpu: libcudart\.so\.11\.0: cannot open shared object file; @tensorflow\/tfjs-node failed to load/,
    );
  });

  it('treats a binding that loads without registering a backend as absent', async () => {
    const choice = await selectBackend('auto', () => {}, {
      importModule: async () => ({}),
      probeBudgetMs: 200,
    });
    assert.ok(choice.name === 'wasm' || choice.name === 'cpu');
    assert.match(
      choice.detail,
      /@tensorflow\/tfjs-node-gpu loaded but its 'tensorflow' backend did not initialise/,
    );
  });
});

describe('nativeBackendUsesGpu', () => {
  it("reads tfjs-node's isUsingGpuDevice flag, and knows nothing of a backend without it", () => {
    assert.equal(nativeBackendUsesGpu({ isUsingGpuDevice: true, isGPUPackage: true }), true);
    assert.equal(nativeBackendUsesGpu({ isUsingGpuDevice: false, isGPUPackage: true }), false);
    assert.equal(nativeBackendUsesGpu({ isGPUPackage: true }), undefined);
    assert.equal(nativeBackendUsesGpu({ isUsingGpuDevice: 'yes' }), undefined);
    assert.equal(nativeBackendUsesGpu(null), undefined);
  });
});
