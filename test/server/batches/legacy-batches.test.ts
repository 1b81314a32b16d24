import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { legacyBatchHashes } from './legacy-batch-hashes.js';

describe('batches of requests without the newer sampling options', () => {
  // Landing 0 (grpcio) and 5 (grpc-js) give float32 images different padding fields, and nothing else.
  for (const imageLanding of [0, 5]) {
    it(`are byte-identical, but for the padding, to the batches of the code before those options existed (message at byte ${imageLanding})`, async () => {
      const expected: Record<string, string[]> = JSON.parse(
        await readFile(new URL('./legacy-batch-hashes.json', import.meta.url), 'utf8'),
      );
      const actual = await legacyBatchHashes(imageLanding);
      assert.deepEqual(Object.keys(actual), Object.keys(expected));
      for (const [name, hashes] of Object.entries(expected)) {
        assert.ok(hashes.length > 0, `${name}: the fixture holds no batch`);
        assert.deepEqual(actual[name], hashes, `${name}: batches differ from the reference`);
      }
    });
  }
});
