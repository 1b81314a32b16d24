import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isInside,
  readSource,
  resolveSpecifier,
  sourceFiles,
  specifiersOf,
} from '../../support/source-imports.js';

const SAMPLING = 'server/sampling';

const FORBIDDEN_MODULES = [/^node:/, /^fs(\/|$)/, /^@grpc\//, /^prom-client$/, /^@tensorflow\//];
const FORBIDDEN_WORDS = ['Math.random', 'Date.now', 'performance.now', 'process.env', 'new Date'];
/** The core may import its own files and the error module, by relative path, nothing else. */
const allowedImport = (file: string, specifier: string): boolean => {
  if (!specifier.startsWith('.')) return false;
  const target = resolveSpecifier(file, specifier);
  return isInside(target, SAMPLING) || target === 'server/errors.ts';
};

/** The reasons a source file of the core (a repository path) breaks its purity rule; empty when it is pure. */
function purityViolations(file: string, source: string): string[] {
  const problems: string[] = [];
  const specifiers = [
    ...specifiersOf(source),
    // Not an ES import, but a way to load a module all the same.
    ...[...source.matchAll(/\brequire\s*\(\s*['"]([^'"]+)['"]/g)].map((match) => match[1]!),
  ];
  for (const specifier of specifiers) {
    if (FORBIDDEN_MODULES.some((pattern) => pattern.test(specifier))) problems.push(`imports ${specifier}`);
    else if (!allowedImport(file, specifier)) problems.push(`imports ${specifier}, outside the pure core`);
  }
  for (const word of FORBIDDEN_WORDS) if (source.includes(word)) problems.push(`mentions ${word}`);
  return problems;
}

describe('the sampling core', () => {
  const files = sourceFiles(SAMPLING);

  it('has source files to check', () => {
    assert.ok(
      files.includes(`${SAMPLING}/plan-sample.ts`) && files.includes(`${SAMPLING}/extract-crop.ts`),
      files.join(', '),
    );
  });

  for (const file of files) {
    it(`keeps ${file.slice(SAMPLING.length + 1)} free of I/O, clocks, the environment and global randomness`, () => {
      assert.deepEqual(purityViolations(file, readSource(file)), []);
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
    [
      'a workspace package',
      "import { VoxelfeedError } from '@voxelfeed/common/voxelfeed-error.js';",
      'outside the pure core',
    ],
    ['the wire contract', "import type { Batch } from '@voxelfeed/proto';", 'outside the pure core'],
    ['an npm package', "import { LRUCache } from 'lru-cache';", 'outside the pure core'],
    [
      'itself by package name',
      "import { Rng } from '@voxelfeed/server/sampling/rng.js';",
      'outside the pure core',
    ],
    ['a require', "const fs = require('fs');", 'imports fs'],
    ['Math.random', 'const u = Math.random();', 'mentions Math.random'],
    ['Date.now', 'const t = Date.now();', 'mentions Date.now'],
    ['performance.now', 'const t = performance.now();', 'mentions performance.now'],
    ['process.env', 'const s = process.env.SEED;', 'mentions process.env'],
    ['new Date', 'const d = new Date();', 'mentions new Date'],
  ];
  for (const [name, source, problem] of cases) {
    it(`flags ${name}`, () => {
      const problems = purityViolations(`${SAMPLING}/plan-sample.ts`, source);
      assert.ok(
        problems.some((p) => p.includes(problem)),
        problems.join(),
      );
    });
  }

  it('accepts imports of the core itself and of the error module', () => {
    const source =
      "import { VoxelfeedError } from '../errors.js';\nimport type { Shape3 } from './types.js';";
    assert.deepEqual(purityViolations(`${SAMPLING}/plan-sample.ts`, source), []);
  });
});
