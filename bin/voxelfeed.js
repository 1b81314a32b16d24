#!/usr/bin/env node
// The voxelfeed command: runs the JavaScript that `npm run build` compiles into bin/dist, as the images and
// an installed package do. In a checkout, bin/voxelfeed-dev.js (`npm run dev -- <command>`) runs the
// TypeScript sources instead, so an edit needs no build and a stale build never hides one.
import { existsSync } from 'node:fs';
import { runCli } from './run-cli.js';

const compiled = new URL('./dist/voxelfeed-cli.js', import.meta.url);
if (!existsSync(compiled)) {
  console.error(
    'voxelfeed: no compiled code (bin/dist/voxelfeed-cli.js is missing); run `npm run build` first, ' +
      'or `npm run dev -- <command>` to run the TypeScript sources',
  );
  process.exit(1);
}
await runCli(compiled.href);
