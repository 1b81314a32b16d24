import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Relative imports of every .ts file under `folder` that resolve into one of `forbidden` top-level folders. */
async function importsInto(folder: string, forbidden: readonly string[]): Promise<string[]> {
  const base = path.join(ROOT, folder);
  const files = (await readdir(base, { recursive: true })).filter((name) => name.endsWith('.ts'));
  const offending: string[] = [];
  for (const name of files) {
    const file = path.join(base, name);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
      const target = path.relative(ROOT, path.resolve(path.dirname(file), match[1]!));
      if (forbidden.some((top) => target === top || target.startsWith(`${top}${path.sep}`))) {
        offending.push(`${folder}/${name}: ${match[1]}`);
      }
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
