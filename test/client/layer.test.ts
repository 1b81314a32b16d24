import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, type SourceImport, sourceImports } from '../support/source-imports.js';

/**
 * What the client library may import: itself, the generated code (gen/, the @voxelfeed/proto package), gRPC,
 * protobuf wire code, node built-ins. Never common/: a trainer elsewhere installs the client and proto only.
 */
function allowed({ specifier, target }: SourceImport): boolean {
  if (target !== null) return isInside(target, 'client') || isInside(target, 'gen');
  if (specifier.startsWith('node:')) return true;
  return specifier === '@grpc/grpc-js' || specifier.startsWith('@bufbuild/protobuf');
}

const offending = (found: readonly SourceImport[]) =>
  found.filter((one) => !allowed(one)).map(({ file, specifier }) => `${file}: ${specifier}`);

describe('the client layer', () => {
  it('imports only client/, gen/, @grpc/grpc-js, @bufbuild/protobuf and node built-ins', () => {
    const found = sourceImports('client');
    assert.ok(new Set(found.map(({ file }) => file)).size > 5, `found ${found.length} client imports`);
    assert.deepEqual(offending(found), []);
  });

  it('detects other imports, so the check above can fail', () => {
    // The trainer imports common/ by package name and tfjs: checking it by the client's rule must find both.
    const trainer = offending(sourceImports('trainer'));
    assert.ok(
      trainer.some((line) => line.includes('@voxelfeed/common/')),
      trainer.join('\n'),
    );
    assert.ok(
      trainer.some((line) => line.includes('@tensorflow/')),
      trainer.join('\n'),
    );
  });
});
