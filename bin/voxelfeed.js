#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx's loader; no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./voxelfeed-cli.ts');
process.exitCode = await main(process.argv.slice(2));
