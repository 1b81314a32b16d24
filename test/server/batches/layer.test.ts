import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isInside, type ModuleImport, moduleImports } from '../../support/module-imports.js';

const show = (found: readonly ModuleImport[]) => found.map(({ file, specifier }) => `${file}: ${specifier}`);

describe('the batch pipeline layer', () => {
  it('never imports gRPC: later stream kinds and the benchmarks use it without a transport', async () => {
    const grpc = (await moduleImports('server/batches')).filter(({ specifier }) =>
      specifier.startsWith('@grpc/'),
    );
    assert.deepEqual(show(grpc), []);
  });

  it('never imports the service layer, which adapts it to gRPC', async () => {
    const service = (await moduleImports('server/batches')).filter(({ target }) =>
      isInside(target, 'server/service'),
    );
    assert.deepEqual(show(service), []);
  });

  it('is what the service layer builds on, and the checks above can fail', async () => {
    const fromService = await moduleImports('server/service');
    // The arrow points from service to batches: these imports exist, so a check for them finds something.
    assert.ok(fromService.some(({ target }) => isInside(target, 'server/batches')));
    assert.ok(fromService.some(({ specifier }) => specifier === '@grpc/grpc-js'));
  });

  it('keeps the sampling core below it: the core imports neither batches nor service', async () => {
    const upward = (await moduleImports('server/sampling')).filter(
      ({ target }) => isInside(target, 'server/batches') || isInside(target, 'server/service'),
    );
    assert.deepEqual(show(upward), []);
    // And the core is what batches builds on.
    const fromBatches = await moduleImports('server/batches');
    assert.ok(fromBatches.some(({ target }) => isInside(target, 'server/sampling')));
  });
});
