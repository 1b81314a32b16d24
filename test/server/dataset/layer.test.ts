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

/**
 * Why the imports of `file` (a path under server/dataset/) break the layering above; empty when they do not.
 * An import by workspace package name (`@voxelfeed/proto`, `@voxelfeed/common/...`) is judged by the folder
 * it lands in, like a relative one.
 */
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
      continue;
    }
    const forbidden = FORBIDDEN_OUTSIDE.find((prefix) => target === prefix || target.startsWith(prefix));
    if (forbidden !== undefined) {
      problems.push(`imports ${specifier}, in ${forbidden}, which no part of dataset/ may import`);
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

  it('follows imports by package name too: the batch pipeline reaches protobuf through @voxelfeed/proto', () => {
    const chain = packagesReached(sourceFiles('server/batches')).get('@bufbuild/protobuf/wire') ?? [];
    assert.ok(chain.includes('gen/voxelfeed/v1/voxelfeed.ts'), chain.join(' -> '));
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
      'in server/service/, which no part of dataset/ may import',
    ],
    [
      'the batch pipeline',
      'server/dataset/catalog/catalog.ts',
      '../../batches/plan-cache.js',
      'in server/batches/, which no part of dataset/ may import',
    ],
    [
      'the batch pipeline by package name',
      'server/dataset/loading/load-series-volume.ts',
      '@voxelfeed/server/batches/plan-cache.js',
      'in server/batches/, which no part of dataset/ may import',
    ],
    [
      'the wire contract by package name',
      'server/dataset/catalog/catalog.ts',
      '@voxelfeed/proto',
      'in gen/, which no part of dataset/ may import',
    ],
    [
      'the client library by package name',
      'server/dataset/loading/load-catalog-volume.ts',
      '@voxelfeed/client',
      'in client/, which no part of dataset/ may import',
    ],
    [
      'a reader importing the shared package by name',
      'server/dataset/nrrd/nrrd-header.ts',
      '@voxelfeed/common/voxelfeed-error.js',
      'may reach only server/errors.ts and server/sampling/',
    ],
    [
      'a reader importing another part by package name',
      'server/dataset/npy/npy-reader.ts',
      '@voxelfeed/server/dataset/catalog/catalog.js',
      'in catalog/, which npy/ may not',
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

  it('accepts a loader importing the catalog, the NRRD reader, shared helpers, the errors and sampling', () => {
    const specifiers = [
      '../catalog/catalog.js',
      '@voxelfeed/server/dataset/catalog/catalog.js',
      '@voxelfeed/common/voxelfeed-error.js',
      '../nrrd/nrrd-reader.js',
      '../run-in-slabs.js',
      '../../errors.js',
      '../../sampling/types.js',
      'node:perf_hooks',
    ];
    assert.deepEqual(layerViolations('server/dataset/loading/load-catalog-volume.ts', specifiers), []);
  });
});
