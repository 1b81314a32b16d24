import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  packagesReached,
  readSource,
  resolveSpecifier,
  sourceFiles,
  specifiersOf,
} from '../../support/source-imports.js';

const DATASET = 'server/dataset';

/**
 * The parts of server/dataset/ (a subfolder, or '' for the helpers at its root) and the parts each may import:
 * the readers first, the catalog built from their headers, then what loads and checks catalog series.
 */
const PARTS: Readonly<Record<string, readonly string[]>> = {
  '': [''],
  nrrd: ['nrrd', ''],
  npy: ['npy', ''],
  catalog: ['catalog', 'nrrd', 'npy', ''],
  loading: ['loading', 'catalog', 'nrrd', ''],
  'box-check': ['box-check', 'catalog', 'loading', 'nrrd', ''],
};
/** Parts that know nothing of the rest of the server: they may reach outside dataset/ only for these. */
const LEAF_PARTS: ReadonlySet<string> = new Set(['', 'nrrd', 'npy']);
const LEAF_OUTSIDE = ['server/errors.ts', 'server/sampling/'];
/** What no file of dataset/ may import: the layers above it, the programs, and the other packages. */
const FORBIDDEN_OUTSIDE = [
  'server/service/',
  'server/batches/',
  'server/cache/',
  'server/synth/',
  'server/index-command/',
  'server/main.ts',
  'client/',
  'trainer/',
  'bin/',
  'bench/',
  'gen/',
  'test/',
];
/** Packages of the gRPC and metrics layers (and the trainer's): dataset/ must not load them, even indirectly. */
const FORBIDDEN_PACKAGES = [/^@grpc\//, /^grpc-health-check$/, /^prom-client$/, /^@tensorflow\//];

/** The part of dataset/ a repository path lies in ('' for its root), or null outside dataset/. */
function partOf(file: string): string | null {
  if (!file.startsWith(`${DATASET}/`)) return null;
  const rest = file.slice(DATASET.length + 1).split('/');
  return rest.length === 1 ? '' : rest[0]!;
}

const partName = (part: string): string => (part === '' ? 'the root of dataset/' : `${part}/`);

/** Why the imports of `file` (a path under server/dataset/) break the layering above; empty when they do not. */
function layerViolations(file: string, specifiers: readonly string[]): string[] {
  const part = partOf(file);
  if (part === null) return [`${file} is not under ${DATASET}/`];
  const mayImport = PARTS[part];
  if (mayImport === undefined) return [`${partName(part)} is a part the layer table does not list; add it`];
  const problems: string[] = [];
  for (const specifier of specifiers) {
    const target = resolveSpecifier(file, specifier);
    if (target === null) {
      if (FORBIDDEN_PACKAGES.some((pattern) => pattern.test(specifier)))
        problems.push(`imports ${specifier}`);
      else if (LEAF_PARTS.has(part) && !specifier.startsWith('node:')) {
        problems.push(`imports ${specifier}; ${partName(part)} may use node built-ins only`);
      }
      continue;
    }
    const targetPart = partOf(target);
    if (targetPart !== null) {
      if (!mayImport.includes(targetPart)) {
        problems.push(`imports ${specifier}, in ${partName(targetPart)}, which ${partName(part)} may not`);
      }
    } else if (FORBIDDEN_OUTSIDE.some((prefix) => target === prefix || target.startsWith(prefix))) {
      problems.push(`imports ${specifier}, in a layer above dataset/`);
    } else if (LEAF_PARTS.has(part) && !LEAF_OUTSIDE.some((prefix) => target.startsWith(prefix))) {
      problems.push(`imports ${specifier}; ${partName(part)} may reach only ${LEAF_OUTSIDE.join(' and ')}`);
    }
  }
  return problems;
}

describe('the dataset layer', () => {
  const files = sourceFiles(DATASET);

  it('has source files in each of its parts', () => {
    for (const part of Object.keys(PARTS)) {
      assert.ok(
        files.some((file) => partOf(file) === part),
        `no source file in ${partName(part)}: ${files.join(', ')}`,
      );
    }
  });

  for (const file of files) {
    it(`keeps ${file.slice(DATASET.length + 1)} to the imports its part may make`, () => {
      assert.deepEqual(layerViolations(file, specifiersOf(readSource(file))), []);
    });
  }

  it('never loads gRPC, prom-client or tfjs, not even through the modules it imports', () => {
    const offending = [...packagesReached(files)]
      .filter(([specifier]) => FORBIDDEN_PACKAGES.some((pattern) => pattern.test(specifier)))
      .map(([specifier, chain]) => `${chain.join(' -> ')} -> ${specifier}`);
    assert.deepEqual(offending, []);
  });

  it('follows imports far enough to see what the server program loads', () => {
    // The composition root reaches gRPC and prom-client only through the modules it imports.
    const reached = packagesReached(['server/main.ts']);
    assert.ok(reached.has('@grpc/grpc-js') && reached.has('prom-client'), [...reached.keys()].join(', '));
  });
});

describe('layerViolations', () => {
  const cases: [name: string, file: string, specifier: string, problem: string][] = [
    [
      'a reader importing the catalog',
      'server/dataset/nrrd/nrrd-reader.ts',
      '../catalog/catalog.js',
      'in catalog/, which nrrd/ may not',
    ],
    [
      'a reader importing the other reader',
      'server/dataset/npy/npy-reader.ts',
      '../nrrd/nrrd-header.js',
      'in nrrd/, which npy/ may not',
    ],
    [
      'a reader importing the loaders',
      'server/dataset/npy/npy-reader.ts',
      '../loading/load-series-volume.js',
      'in loading/, which npy/ may not',
    ],
    [
      'the catalog importing the loaders',
      'server/dataset/catalog/build-catalog.ts',
      '../loading/load-catalog-volume.js',
      'in loading/, which catalog/ may not',
    ],
    [
      'a shared helper importing a part',
      'server/dataset/run-in-slabs.ts',
      './nrrd/swap-endian.js',
      'in nrrd/, which the root of dataset/ may not',
    ],
    [
      'the gRPC service',
      'server/dataset/loading/load-catalog-volume.ts',
      '../../service/served-dataset.js',
      'in a layer above dataset/',
    ],
    [
      'the batch pipeline',
      'server/dataset/catalog/catalog.ts',
      '../../batches/plan-cache.js',
      'in a layer above dataset/',
    ],
    [
      'a reader importing the server config',
      'server/dataset/nrrd/nrrd-type.ts',
      '../../config/parse-share.js',
      'may reach only server/errors.ts and server/sampling/',
    ],
    ['gRPC', 'server/dataset/catalog/build-catalog.ts', '@grpc/grpc-js', 'imports @grpc/grpc-js'],
    ['prom-client', 'server/dataset/loading/load-series-volume.ts', 'prom-client', 'imports prom-client'],
    ['a package in a reader', 'server/dataset/nrrd/nrrd-header.ts', 'nrrd-js', 'node built-ins only'],
    ['a part missing from the table', 'server/dataset/dicom/dicom-reader.ts', 'node:fs', 'add it'],
  ];
  for (const [name, file, specifier, problem] of cases) {
    it(`flags ${name}`, () => {
      const problems = layerViolations(file, [specifier]);
      assert.ok(
        problems.some((found) => found.includes(problem)),
        `${file} importing ${specifier}: ${JSON.stringify(problems)}`,
      );
    });
  }

  it('accepts a loader importing the catalog, the NRRD reader, a shared helper, the errors and sampling', () => {
    const specifiers = [
      '../catalog/catalog.js',
      '../nrrd/nrrd-reader.js',
      '../run-in-slabs.js',
      '../../errors.js',
      '../../sampling/types.js',
      'node:perf_hooks',
    ];
    assert.deepEqual(layerViolations('server/dataset/loading/load-catalog-volume.ts', specifiers), []);
  });
});

describe('specifiersOf', () => {
  it('finds static, type, re-export, side-effect and dynamic imports, and no words of a comment', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "export { c } from './c.js';",
      "import './d.js';",
      "const e = await import('./e.js');",
      "import {\n  f,\n} from 'node:fs';",
      '// One byte of slack tells "exactly right" from "too long".',
    ].join('\n');
    assert.deepEqual(specifiersOf(source).sort(), [
      '../b.js',
      './a.js',
      './c.js',
      './d.js',
      './e.js',
      'node:fs',
    ]);
  });
});
