import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isInside,
  isSourcePath,
  packagesReached,
  resolveSpecifier,
  sourceFiles,
  specifiersOf,
  workspacePackages,
} from './source-imports.js';

describe('specifiersOf', () => {
  it('finds static, type, re-export, side-effect and dynamic imports, and no words of a comment', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "export * from './cc.js';",
      "import './d.js';",
      "const e = await import('./e.js');",
      "  serve: async () => (await import('@voxelfeed/server/main.js')).runServe,",
      "const g = await Promise.all(['x', \"y\"].map(() => import('./g.js')));",
      "run(); // and import('./not-this.js') later",
      "import {\n  f,\n} from 'node:fs';",
      '// One byte of slack tells "exactly right" from "too long".',
    ].join('\n');
    assert.deepEqual(specifiersOf(source).sort(), [
      '../b.js',
      './a.js',
      './c.js',
      './cc.js',
      './d.js',
      './e.js',
      './g.js',
      '@voxelfeed/server/main.js',
      'node:fs',
    ]);
  });

  it("takes no import from a test's source text or a comment", () => {
    const source = [
      'const cases = [',
      "  ['a node: import', \"import { readFile } from 'node:fs/promises';\"],",
      "  ['a dynamic import', \"const m = await import('node:os');\"],",
      '];',
      "// const old = await import('./old.js');",
      "/* import('./older.js') */",
      " * await import('./oldest.js')",
    ].join('\n');
    assert.deepEqual(specifiersOf(source), []);
  });
});

describe('resolveSpecifier', () => {
  const cases: [from: string, specifier: string, target: string | null][] = [
    ['server/dataset/nrrd/nrrd-reader.ts', '../../errors.js', 'server/errors.ts'],
    ['server/dataset/nrrd/nrrd-reader.ts', './nrrd-header.js', 'server/dataset/nrrd/nrrd-header.ts'],
    ['server/batches/encoded-batch.ts', '@voxelfeed/proto', 'gen/voxelfeed/v1/voxelfeed.ts'],
    ['server/main.ts', '@voxelfeed/common/cli/parse-share.js', 'common/cli/parse-share.ts'],
    ['trainer/main.ts', '@voxelfeed/client', 'client/index.ts'],
    ['bin/voxelfeed-cli.ts', '@voxelfeed/server/synth/run-synth.js', 'server/synth/run-synth.ts'],
    ['bin/voxelfeed-cli.ts', '@voxelfeed/trainer/main.js', 'trainer/main.ts'],
    ['server/main.ts', '@voxelfeed/proto/descriptors/health.binpb', 'gen/descriptors/health.binpb'],
    ['server/main.ts', '@grpc/grpc-js', null],
    ['server/main.ts', 'prom-client', null],
    ['server/main.ts', 'node:fs/promises', null],
    ['server/main.ts', '@voxelfeed/protobuf-ish', null],
  ];
  for (const [from, specifier, target] of cases) {
    it(`resolves ${specifier} from ${from} to ${target}`, () => {
      assert.equal(resolveSpecifier(from, specifier), target);
    });
  }

  it('knows every workspace of the root package.json, each with a folder of its own', () => {
    const folders = workspacePackages().map(({ folder }) => folder);
    for (const folder of ['gen', 'common', 'client', 'server', 'trainer'])
      assert.ok(folders.includes(folder));
    assert.equal(new Set(folders).size, folders.length);
  });
});

describe('isSourcePath and isInside', () => {
  it('keep TypeScript sources and leave out declarations and build output', () => {
    assert.ok(isSourcePath('cli/parse-share.ts'));
    assert.ok(!isSourcePath('cli/parse-share.js'));
    assert.ok(!isSourcePath('cli/parse-share.d.ts'));
    assert.ok(!isSourcePath('dist/cli/parse-share.ts'));
    assert.ok(!isSourcePath('x/node_modules/y/index.ts'));
    assert.ok(sourceFiles('client').includes('client/index.ts'));
  });

  it('tell a folder from a name that only starts like it', () => {
    assert.ok(isInside('server/service/x.ts', 'server/service'));
    assert.ok(isInside('server/service', 'server/service'));
    assert.ok(!isInside('server/services.ts', 'server/service'));
    assert.ok(!isInside(null, 'server/service'));
  });
});

describe('packagesReached', () => {
  it('follows relative imports and workspace package names to the npm packages behind them', () => {
    const reached = packagesReached(['server/batches/encoded-batch.ts']);
    assert.deepEqual(reached.get('@bufbuild/protobuf/wire'), [
      'server/batches/encoded-batch.ts',
      'gen/voxelfeed/v1/voxelfeed.ts',
    ]);
    assert.ok(
      ![...reached.keys()].some((name) => name.startsWith('node:') || name.startsWith('@voxelfeed/')),
    );
  });
});
