import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSource, resolveSpecifier, sourceFiles, specifiersOf } from '../../support/source-imports.js';

const WRITERS: ReadonlySet<string> = new Set(['server/synth/nrrd-writer.ts', 'server/synth/npy-writer.ts']);
/** Every folder of product code; tests may import the writers (to make damaged files), product code may not. */
const PRODUCT_FOLDERS = ['server', 'client', 'trainer', 'common', 'bin', 'bench'];

/** The imports of `file` that reach a writer from outside server/synth/; empty when there are none. */
function writerImports(file: string, source: string): string[] {
  if (file.startsWith('server/synth/')) return [];
  return specifiersOf(source)
    .filter((specifier) => WRITERS.has(resolveSpecifier(file, specifier) ?? ''))
    .map((specifier) => `${file}: ${specifier}`);
}

describe('the NRRD and NPY writers', () => {
  it('are where the check looks for them', () => {
    const synth = sourceFiles('server/synth');
    assert.deepEqual(
      [...WRITERS].filter((writer) => !synth.includes(writer)),
      [],
    );
  });

  it('are imported only by synth (and tests), never by the serving code', () => {
    const offending = PRODUCT_FOLDERS.flatMap(sourceFiles).flatMap((file) =>
      writerImports(file, readSource(file)),
    );
    assert.deepEqual(offending, []);
  });

  it('flags a writer imported by the server', () => {
    assert.deepEqual(
      writerImports(
        'server/service/handle-get-sample.ts',
        "import { encodeNpy } from '../synth/npy-writer.js';",
      ),
      ['server/service/handle-get-sample.ts: ../synth/npy-writer.js'],
    );
  });

  it('flags a writer imported by package name from outside the server', () => {
    const source = "import { encodeNrrd } from '@voxelfeed/server/synth/nrrd-writer.js';";
    assert.deepEqual(writerImports('bench/make-volume.ts', source), [
      'bench/make-volume.ts: @voxelfeed/server/synth/nrrd-writer.js',
    ]);
  });

  it('lets synth import them', () => {
    const source = "import { encodeNrrd } from './nrrd-writer.js';";
    assert.deepEqual(writerImports('server/synth/write-phantom-dataset.ts', source), []);
  });
});
