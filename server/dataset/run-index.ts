import { parseArgs } from 'node:util';
import { formatBytes } from '../config/parse-byte-size.js';
import { buildCatalog } from './build-catalog.js';

export const INDEX_HELP = `Usage: voxelfeed index PATH [--strict] [--json]

Indexes a data set the way voxelfeed serve does (NRRD headers and box files only, no voxel data) and prints
its summary: series, nodules, decoded size, fingerprint, and every series that would be skipped, with why.

  PATH       a folder in the LUNA16 preprocessed layout, or a manifest (.csv or .json)
  --strict   exit with status 1 if any series is bad (without it: only if no series can be served)
  --json     print one JSON object instead of text`;

export async function runIndex(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      strict: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${INDEX_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(`voxelfeed index: expected one PATH, got ${positionals.length}\n\n${INDEX_HELP}\n`);
    return 2;
  }
  const started = performance.now();
  // Every series skipped is still a summary worth printing; serve would refuse such a data set.
  const catalog = await buildCatalog({ source: positionals[0]!, allowEmpty: true });
  const ms = Math.round(performance.now() - started);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        dataset: catalog.name,
        source: catalog.source,
        series: catalog.series.length,
        nodules: catalog.nodules,
        decoded_bytes: catalog.decodedBytes,
        fingerprint: catalog.fingerprint,
        skipped: catalog.skipped,
        index_ms: ms,
      })}\n`,
    );
  } else {
    const lines = [
      `data set     ${catalog.name} (${catalog.source})`,
      `series       ${catalog.series.length}`,
      `nodules      ${catalog.nodules}`,
      `without any  ${catalog.series.filter((series) => series.nodules.length === 0).length} series (negatives only)`,
      `decoded size ${formatBytes(catalog.decodedBytes)} (image + mask, uint8)`,
      `fingerprint  ${catalog.fingerprint}`,
      `indexed in   ${ms} ms`,
      `skipped      ${catalog.skipped.length}`,
      ...catalog.skipped.map((skipped) => `  ${skipped.uid}: ${skipped.reason}`),
      ...(catalog.series.length === 0
        ? ['nothing to serve: voxelfeed serve would refuse this data set']
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return catalog.series.length === 0 || (values.strict && catalog.skipped.length > 0) ? 1 : 0;
}
