import assert from 'node:assert/strict';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isVoxelfeedError } from '../../../common/voxelfeed-error.js';
import {
  createReflectionService,
  DESCRIPTOR_SET_FILES,
} from '../../../server/service/create-reflection-service.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe('createReflectionService', () => {
  let temp: string;

  before(async () => {
    temp = await mkdtemp(path.join(tmpdir(), 'voxelfeed-descriptors-'));
  });

  after(async () => {
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  it('reads the descriptor sets that npm run gen writes into gen/descriptors', async () => {
    assert.deepEqual(
      DESCRIPTOR_SET_FILES.map((file) => path.relative(ROOT, file)),
      ['gen/descriptors/voxelfeed.binpb', 'gen/descriptors/health.binpb'],
    );
    for (const file of DESCRIPTOR_SET_FILES) await access(file);
    await createReflectionService();
  });

  it('names a missing descriptor set and the command that writes it', async () => {
    const missing = path.join(temp, 'missing.binpb');
    await assert.rejects(createReflectionService([missing]), (error: unknown) => {
      assert.ok(isVoxelfeedError(error));
      assert.equal(error.code, 'DATA_LOSS');
      assert.match(error.message, new RegExp(`cannot read ${missing}.*ENOENT.*npm run gen`));
      return true;
    });
  });

  it('refuses a file that is no FileDescriptorSet, and one that holds no file', async () => {
    const garbage = path.join(temp, 'garbage.binpb');
    await writeFile(garbage, Buffer.from([0x0a, 0x50, 0x01]));
    const empty = path.join(temp, 'empty.binpb');
    await writeFile(empty, Buffer.alloc(0));
    await assert.rejects(
      createReflectionService([garbage]),
      /garbage\.binpb is no FileDescriptorSet.*npm run gen/,
    );
    await assert.rejects(
      createReflectionService([empty]),
      /empty\.binpb holds no file descriptors.*npm run gen/,
    );
  });
});
