import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const SAMPLING_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../server/sampling');

const FORBIDDEN_MODULES = [/^node:/, /^fs(\/|$)/, /^@grpc\//, /^prom-client$/, /^@tensorflow\//];
const FORBIDDEN_WORDS = ['Math.random', 'Date.now', 'performance.now', 'process.env', 'new Date'];
// The core may import its own files and the error module, nothing else.
const ALLOWED_RELATIVE = /^(\.\/[a-z0-9-]+\.js|\.\.\/errors\.js)$/;

/** The reasons a source file breaks the purity rule of the sampling core; empty when it is pure. */
function purityViolations(source: string): string[] {
  const problems: string[] = [];
  const specifiers = [
    ...source.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*\(?\s*['"]([^'"]+)['"]/g),
    ...source.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]/g),
  ].map((match) => match[1]!);
  for (const specifier of specifiers) {
    if (FORBIDDEN_MODULES.some((pattern) => pattern.test(specifier))) problems.push(`imports ${specifier}`);
    else if (!ALLOWED_RELATIVE.test(specifier)) problems.push(`imports ${specifier}, outside the pure core`);
  }
  for (const word of FORBIDDEN_WORDS) if (source.includes(word)) problems.push(`mentions ${word}`);
  return problems;
}

describe('the sampling core', () => {
  const files = readdirSync(SAMPLING_DIR).filter((name) => name.endsWith('.ts'));

  it('has source files to check', () => {
    assert.ok(files.includes('plan-sample.ts') && files.includes('extract-crop.ts'), files.join(', '));
  });

  for (const name of files) {
    it(`keeps ${name} free of I/O, clocks, the environment and global randomness`, () => {
      assert.deepEqual(purityViolations(readFileSync(path.join(SAMPLING_DIR, name), 'utf8')), []);
    });
  }
});

describe('purityViolations', () => {
  const cases: [name: string, source: string, problem: string][] = [
    ['a node: import', "import { readFile } from 'node:fs/promises';", 'imports node:fs/promises'],
    ['a bare fs import', "import fs from 'fs';", 'imports fs'],
    ['gRPC', "import * as grpc from '@grpc/grpc-js';", 'imports @grpc/grpc-js'],
    ['prom-client', "import { Counter } from 'prom-client';", 'imports prom-client'],
    ['tfjs', "import * as tf from '@tensorflow/tfjs-node';", 'imports @tensorflow/tfjs-node'],
    ['a dynamic import', "const m = await import('node:os');", 'imports node:os'],
    ['a side-effect import', "import 'node:net';", 'imports node:net'],
    ['a module outside the core', "import { x } from '../cache/volume-cache.js';", 'outside the pure core'],
    ['Math.random', 'const u = Math.random();', 'mentions Math.random'],
    ['Date.now', 'const t = Date.now();', 'mentions Date.now'],
    ['performance.now', 'const t = performance.now();', 'mentions performance.now'],
    ['process.env', 'const s = process.env.SEED;', 'mentions process.env'],
    ['new Date', 'const d = new Date();', 'mentions new Date'],
  ];
  for (const [name, source, problem] of cases) {
    it(`flags ${name}`, () => {
      const problems = purityViolations(source);
      assert.ok(
        problems.some((p) => p.includes(problem)),
        problems.join(),
      );
    });
  }

  it('accepts imports of the core itself and of the error module', () => {
    const source =
      "import { VoxelfeedError } from '../errors.js';\nimport type { Shape3 } from './types.js';";
    assert.deepEqual(purityViolations(source), []);
  });
});
