import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  importSpecifiers,
  importTarget,
  isUnder,
  REPO_ROOT,
  sourceFiles,
  workspaceFolders,
} from '../support/workspace-imports.js';

/**
 * Imports of every source under `folder` that land in one of the `forbidden` top-level folders, whether by a
 * relative path or by package name (`@voxelfeed/server/...` is server/).
 */
async function importsInto(folder: string, forbidden: readonly string[]): Promise<string[]> {
  const packages = await workspaceFolders();
  const offending: string[] = [];
  for (const name of await sourceFiles(folder)) {
    const file = path.join(REPO_ROOT, folder, name);
    for (const specifier of importSpecifiers(await readFile(file, 'utf8'))) {
      if (isUnder(importTarget(file, specifier, packages), forbidden))
        offending.push(`${folder}/${name}: ${specifier}`);
    }
  }
  return offending;
}

describe('the trainer layer', () => {
  it('never imports the server (it talks to it only through the client library)', async () => {
    assert.deepEqual(await importsInto('trainer', ['server', 'bin', 'bench']), []);
  });

  it('detects such an import, so the check above can fail', async () => {
    // server/ imports common/ and gen/: checking server against them must find something.
    assert.ok((await importsInto('server', ['common'])).length > 0);
  });
});
