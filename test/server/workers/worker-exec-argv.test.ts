import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { workerExecArgv } from '../../../server/workers/crop-workers.js';

describe('workerExecArgv', () => {
  it("keeps the process's flags but none of its --import modules, and adds tsx's loader once", () => {
    assert.deepEqual(
      workerExecArgv(
        [
          '--import',
          'tsx',
          '--import',
          './test/support/missing-tool-hint.ts',
          '--expose-gc',
          '--import=./x.ts',
        ],
        'file:///repo/node_modules/tsx/dist/loader.mjs',
      ),
      ['--expose-gc', '--import', 'file:///repo/node_modules/tsx/dist/loader.mjs'],
    );
    assert.deepEqual(workerExecArgv([], 'tsx'), ['--import', 'tsx']);
  });
});
