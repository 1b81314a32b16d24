import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLIENT_DIR = fileURLToPath(new URL('../../client', import.meta.url));

/** What the client library may import: itself, the generated code, gRPC, protobuf wire code, node built-ins. */

function allowed(file: string, specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  if (specifier === '@grpc/grpc-js' || specifier.startsWith('@bufbuild/protobuf')) return true;
  if (!specifier.startsWith('.')) return false;
  const target = path.resolve(path.dirname(file), specifier);
  const root = path.dirname(CLIENT_DIR);
  return target.startsWith(CLIENT_DIR + path.sep) || target.startsWith(path.join(root, 'gen') + path.sep);
}

describe('the client layer', () => {
  it('imports only client/, gen/, @grpc/grpc-js, @bufbuild/protobuf and node built-ins', async () => {
    const files = (await readdir(CLIENT_DIR, { recursive: true })).filter((name) => name.endsWith('.ts'));
    assert.ok(files.length > 5, `found ${files.length} client files`);
    const offending: string[] = [];
    for (const name of files) {
      const file = path.join(CLIENT_DIR, name);
      const source = await readFile(file, 'utf8');
      for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (!allowed(file, match[1]!)) offending.push(`${name}: ${match[1]}`);
      }
    }
    assert.deepEqual(offending, []);
  });
});
