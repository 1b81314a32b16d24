#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader; no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./voxelfeed-cli.ts');
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // An error main() has no line for is a bug: print it with its stack and causes, and exit at once as an
  // uncaught error would, but without the source line Node prints for one (with the wasm backend loaded,
  // that is a 36 KB minified line of the emscripten module that re-throws every uncaught error).
  console.error(error);
  process.exit(1);
}
