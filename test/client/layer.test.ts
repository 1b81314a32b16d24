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
 * What the client library may import: itself, the generated code (gen/, the @voxelfeed/proto package), gRPC,
 * protobuf wire code, node built-ins. Never common/: a trainer elsewhere installs the client and proto only.
 */
function allowed(target: string): boolean {
  if (target.startsWith('node:')) return true;
  if (target === '@grpc/grpc-js' || target.startsWith('@bufbuild/protobuf')) return true;
  return isUnder(target, ['client', 'gen']);
}

describe('the client layer', () => {
  it('imports only client/, gen/, @grpc/grpc-js, @bufbuild/protobuf and node built-ins', async () => {
    const packages = await workspaceFolders();
    const files = await sourceFiles('client');
    assert.ok(files.length > 5, `found ${files.length} client files`);
    const offending: string[] = [];
    for (const name of files) {
      const file = path.join(REPO_ROOT, 'client', name);
      for (const specifier of importSpecifiers(await readFile(file, 'utf8'))) {
        if (!allowed(importTarget(file, specifier, packages))) offending.push(`${name}: ${specifier}`);
      }
    }
    assert.deepEqual(offending, []);
  });
});
