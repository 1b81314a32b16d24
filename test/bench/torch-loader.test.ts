import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { benchTorchLoader } from '../../bench/torch-loader.js';

describe('benchTorchLoader', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'torch-loader-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('skips with one line naming the python and the packages when torch does not import', async () => {
    // A python3 without torch: what Python prints when an import fails, and its status.
    const python = path.join(dir, 'python3');
    await writeFile(python, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n');
    await chmod(python, 0o755);
    const run = await benchTorchLoader({ quick: true, seconds: 1, python });
    assert.deepEqual(run, {
      skipped: `${python} cannot import torch, grpc and numpy (ModuleNotFoundError: No module named 'torch'); install python3-torch python3-grpcio python3-numpy`,
    });
  });

  it('skips when the python cannot be started at all', async () => {
    const python = path.join(dir, 'missing', 'python3');
    const run = await benchTorchLoader({ quick: true, seconds: 1, python });
    assert.ok('skipped' in run);
    assert.match(run.skipped, /cannot run \(spawnSync \S+ ENOENT\b/);
  });
});
