import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const THIS_FILE = path.relative(ROOT, fileURLToPath(import.meta.url));

/** Folders that hold no hand-written source: dependencies, generated code, build and benchmark output. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', 'gen', 'dist', '.voxelfeed']);
const SOURCE_FILE = /\.(ts|js|mjs|cjs|md|ya?ml|json|sh|proto)$|Dockerfile$/;

/** Every hand-written source and documentation file of the repository, relative to `ROOT`. */
function sourceFiles(dir = ROOT): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) files.push(...sourceFiles(path.join(dir, entry.name)));
    } else if (SOURCE_FILE.test(entry.name) && entry.name !== 'package-lock.json') {
      files.push(path.relative(ROOT, path.join(dir, entry.name)));
    }
  }
  return files;
}

/** Design notes that live outside the repository: the code must cite docs/ instead. */
const OUTSIDE = [/\bDESIGN\.md\b/, /\bSTYLE\.md\b/, /\bDIGEST\.md\b/, /\.\.\/shared\//];

describe('citations of the documentation', () => {
  const files = sourceFiles().filter((file) => file !== THIS_FILE);

  it('finds the files to check', () => {
    assert.ok(files.includes('server/sampling/plan-keys.ts') && files.includes('README.md'), files.join());
  });

  it('never point to design notes outside the repository', () => {
    const found = files.flatMap((file) => {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      return OUTSIDE.filter((pattern) => pattern.test(text)).map((pattern) => `${file}: ${pattern.source}`);
    });
    assert.deepEqual(found, []);
  });

  it('name only pages of docs/ that exist', () => {
    const missing = files.flatMap((file) => {
      const text = readFileSync(path.join(ROOT, file), 'utf8');
      return [...text.matchAll(/\bdocs\/([\w-]+\.md)\b/g)]
        .map((match) => `docs/${match[1]}`)
        .filter((page) => !existsSync(path.join(ROOT, page)))
        .map((page) => `${file}: ${page}`);
    });
    assert.deepEqual(missing, []);
  });
});
