import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readSource, resolveSpecifier, sourceFiles, specifiersOf } from '../../support/source-imports.js';

const EVALUATE = 'server/evaluate';

/** The computations: they take arrays and numbers and return numbers and pixels, so tests need no files. */
const PURE = [
  'connected-components.ts',
  'dice.ts',
  'evaluate-series.ts',
  'evaluation-report.ts',
  'froc-raster.ts',
  'froc.ts',
  'match-nodules.ts',
];
/** The command around them: files, the catalog, pngjs, stdout. */
const IO = ['evaluate-options.ts', 'read-prediction.ts', 'run-evaluate.ts', 'write-froc-png.ts'];
/** What a pure file may import besides the other pure files. */
const PURE_OUTSIDE = ['server/sampling/types.ts', 'common/format-table.ts'];
const FORBIDDEN_WORDS = ['Math.random', 'Date.now', 'performance.now', 'process.', 'new Date'];

describe('server/evaluate', () => {
  it('has each file classed as pure or I/O', () => {
    const files = sourceFiles(EVALUATE).map((file) => file.slice(EVALUATE.length + 1));
    assert.deepEqual(files.sort(), [...PURE, ...IO].sort());
  });

  for (const name of PURE) {
    it(`keeps ${name} free of I/O, clocks, the environment and randomness`, () => {
      const file = `${EVALUATE}/${name}`;
      const source = readSource(file);
      const problems = specifiersOf(source).flatMap((specifier) => {
        const target = resolveSpecifier(file, specifier);
        const pure =
          target !== null &&
          (PURE.some((other) => target === `${EVALUATE}/${other}`) || PURE_OUTSIDE.includes(target));
        return pure ? [] : [`imports ${specifier}`];
      });
      for (const word of FORBIDDEN_WORDS) if (source.includes(word)) problems.push(`mentions ${word}`);
      assert.deepEqual(problems, []);
    });
  }
});
