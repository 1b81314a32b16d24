#!/usr/bin/env node
// Narrows the repository's package.json to the workspaces an image runs, so that `npm ci --omit=dev` installs
// their production dependencies and nothing else: npm ci installs the dependencies of every workspace of the
// lockfile whatever --workspace says, so the server image would otherwise carry the trainer's TensorFlow.js.
// The versions stay the ones package-lock.json pins; npm ci drops the packages no kept workspace needs.
// Dev dependencies go too: tsx, which only the trainer needs at run time, would otherwise stay.
//
// Usage (in an image's install stage, beside package.json and package-lock.json):
//   node keep-workspaces.mjs gen common server bin && npm ci --omit=dev
import { readFileSync, writeFileSync } from 'node:fs';

const keep = process.argv.slice(2);
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const unknown = keep.filter((name) => !manifest.workspaces.includes(name));
if (keep.length === 0 || unknown.length > 0) {
  console.error(
    `keep-workspaces: ${keep.length === 0 ? 'no workspace given' : `unknown workspace ${unknown.join(', ')}`}; ` +
      `name some of ${manifest.workspaces.join(', ')}`,
  );
  process.exit(2);
}
manifest.workspaces = keep;
delete manifest.devDependencies;
writeFileSync('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
