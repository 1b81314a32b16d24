import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generatedWasmModule, WASM_SOURCES } from '../../scripts/gen-wasm.js';

const ROOT = new URL('../../', import.meta.url);

describe('scripts/gen-wasm.ts', () => {
  for (const entry of WASM_SOURCES) {
    it(`${entry.module} is what ${entry.source} compiles to (run npm run gen after editing it)`, async () => {
      const committed = readFileSync(new URL(entry.module, ROOT), 'utf8');
      assert.equal(committed, await generatedWasmModule(entry));
    });
  }

  it('compiles modules that WebAssembly accepts, each importing only its memory and exporting functions', async () => {
    for (const entry of WASM_SOURCES) {
      const generated = await generatedWasmModule(entry);
      const base64 = /'([A-Za-z0-9+/=]+)'/.exec(generated)?.[1];
      assert.ok(base64 !== undefined);
      const module = new WebAssembly.Module(Buffer.from(base64, 'base64'));
      assert.deepEqual(WebAssembly.Module.imports(module), [
        { module: 'kernel', name: 'memory', kind: 'memory' },
      ]);
      const kinds = WebAssembly.Module.exports(module).map((item) => item.kind);
      assert.ok(kinds.length > 0 && kinds.every((kind) => kind === 'function'), `${entry.source}: ${kinds}`);
    }
  });
});
