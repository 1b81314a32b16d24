#!/usr/bin/env node
// The voxelfeed command from the TypeScript sources of a checkout, through tsx's loader: no build step, and
// what the tests run. The repository's tsconfig maps the @voxelfeed/* package names to the sources (its
// "paths"); it is named here because tsx otherwise looks for one from the working folder only.
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { runCli } from './run-cli.js';

register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
await runCli(new URL('./voxelfeed-cli.ts', import.meta.url).href);
