import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, type SourceImport, sourceImports } from '../../support/source-imports.js';

const show = (found: readonly SourceImport[]) => found.map(({ file, specifier }) => `${file}: ${specifier}`);

describe('the batch pipeline layer', () => {
  it('never imports gRPC: later stream kinds and the benchmarks use it without a transport', () => {
    const grpc = sourceImports('server/batches').filter(({ specifier }) => specifier.startsWith('@grpc/'));
    assert.deepEqual(show(grpc), []);
  });

  it('never imports the service layer, which adapts it to gRPC', () => {
    const service = sourceImports('server/batches').filter(({ target }) =>
      isInside(target, 'server/service'),
    );
    assert.deepEqual(show(service), []);
  });

  it('is what the service layer builds on, and the checks above can fail', () => {
    const fromService = sourceImports('server/service');
    // The arrow points from service to batches: these imports exist, so a check for them finds something.
    assert.ok(fromService.some(({ target }) => isInside(target, 'server/batches')));
    assert.ok(fromService.some(({ specifier }) => specifier === '@grpc/grpc-js'));
  });

  it('keeps the sampling core below it: the core imports neither batches nor service', () => {
    const upward = sourceImports('server/sampling').filter(
      ({ target }) => isInside(target, 'server/batches') || isInside(target, 'server/service'),
    );
    assert.deepEqual(show(upward), []);
    // And the core is what batches builds on.
    const fromBatches = sourceImports('server/batches');
    assert.ok(fromBatches.some(({ target }) => isInside(target, 'server/sampling')));
  });

  it('sees imports by package name: the wire types reach batches as @voxelfeed/proto, from gen/', () => {
    const wire = sourceImports('server/batches').filter(({ specifier }) => specifier === '@voxelfeed/proto');
    assert.ok(wire.length > 0 && wire.every(({ target }) => isInside(target, 'gen')), JSON.stringify(wire));
  });
});
