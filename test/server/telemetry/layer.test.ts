import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, sourceImports } from '../../support/source-imports.js';

const TELEMETRY = 'server/telemetry';
/**
 * The layers telemetry adapts: it implements the pipeline's StreamObserver port and listens to the cache's
 * events, so they must not know it; the composition root wires them together.
 */
const OBSERVED = ['server/batches', 'server/cache', 'server/dataset', 'server/sampling'];

/** The imports of sources under `folder` that land in `into` (by relative path or package name). */
function importsInto(folder: string, into: string): string[] {
  return sourceImports(folder)
    .filter(({ target }) => isInside(target, into))
    .map(({ file, specifier }) => `${file}: ${specifier}`);
}

describe('the telemetry layer', () => {
  for (const folder of OBSERVED) {
    it(`is imported by nothing in ${folder}: it plugs into its ports from outside`, () => {
      assert.deepEqual(importsInto(folder, TELEMETRY), []);
    });
  }

  it('imports nothing from the gRPC service layer, which uses it', () => {
    assert.deepEqual(importsInto(TELEMETRY, 'server/service'), []);
  });

  it('is imported by the composition root, and imports the ports it implements, so the checks can fail', () => {
    assert.ok(
      importsInto('server', TELEMETRY).some((line) => line.startsWith('server/main.ts: ')),
      'server/main.ts does not import server/telemetry',
    );
    const ports = importsInto(TELEMETRY, 'server/batches');
    assert.ok(
      ports.some((line) => line.endsWith('/stream-observer.js')),
      `telemetry imports no StreamObserver: ${ports.join(', ')}`,
    );
  });
});
