import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, sourceImports } from '../support/source-imports.js';

/**
 * Imports of every source under `folder` that land in one of the `forbidden` folders, whether by a relative
 * path or by package name (`@voxelfeed/server/...` is server/).
 */
function importsInto(folder: string, forbidden: readonly string[]): string[] {
  return sourceImports(folder)
    .filter(({ target }) => forbidden.some((top) => isInside(target, top)))
    .map(({ file, specifier }) => `${file}: ${specifier}`);
}

describe('the trainer layer', () => {
  it('never imports the server (it talks to it only through the client library)', () => {
    assert.deepEqual(importsInto('trainer', ['server', 'bin', 'bench']), []);
  });

  it('detects such an import, so the check above can fail', () => {
    // server/ imports common/ and gen/ by package name: checking server against them must find something.
    assert.ok(importsInto('server', ['common']).length > 0);
    assert.ok(importsInto('server', ['gen']).length > 0);
  });
});
