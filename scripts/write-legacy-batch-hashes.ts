/**
 * Writes test/server/batches/legacy-batch-hashes.json: the sha256 of every batch of a set of requests that use
 * none of the newer sampling options. Run it only on code whose batches are the reference (it was run, with
 * SampleInfo.foreground_voxels already sent, just before
 * augmentation and the other newer sampling options were added); the test `legacy-batches.test.ts` then checks
 * that the same requests still give the same bytes.
 * Usage: node --import tsx scripts/write-legacy-batch-hashes.ts
 */
import { writeFile } from 'node:fs/promises';
import { legacyBatchHashes } from '../test/server/batches/legacy-batch-hashes.js';

const target = new URL('../test/server/batches/legacy-batch-hashes.json', import.meta.url);
const hashes = await legacyBatchHashes();
await writeFile(target, `${JSON.stringify(hashes, null, 2)}\n`);
console.log(`wrote ${Object.values(hashes).flat().length} batch hashes to ${target.pathname}`);
