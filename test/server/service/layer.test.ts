import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, sourceImports } from '../../support/source-imports.js';

/**
 * The layers under the gRPC service: the batch pipeline, the volume cache, data set reading, the pure core, and
 * the same-host path's files.
 */
const INNER = ['server/batches', 'server/cache', 'server/dataset', 'server/sampling', 'server/shm'];

describe('the service layer', () => {
  for (const folder of INNER) {
    it(`is imported by nothing in ${folder}: dependencies point inward`, () => {
      const outward = sourceImports(folder).filter(({ target }) => isInside(target, 'server/service'));
      assert.deepEqual(
        outward.map(({ file, specifier }) => `${file}: ${specifier}`),
        [],
      );
    });
  }

  it('is imported by the composition root, so the check above can fail', () => {
    const root = sourceImports('server');
    assert.ok(
      root.some(({ file, target }) => file === 'server/main.ts' && isInside(target, 'server/service')),
    );
  });
});
