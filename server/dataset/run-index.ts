import { parseArgs } from 'node:util';
import { formatBytes } from '../../common/cli/parse-byte-size.js';
import { formatShare, parseShare } from '../../common/cli/parse-share.js';
import {
  describeNodulesLargerThanCrop,
  nodulesLargerThanCrop,
} from '../sampling/nodules-larger-than-crop.js';
import type { Shape3 } from '../sampling/types.js';
import { buildCatalog } from './build-catalog.js';
import { type CatalogMaskReport, checkCatalogMasks } from './check-catalog-masks.js';
import {
  DEFAULT_MAX_SKIPPED_SHARE,
  MAX_SKIPPED_VARIABLE,
  skippedShare,
  skippedShareProblem,
  skippedShareWarning,
} from './skipped-share.js';

export const INDEX_HELP = `Usage: voxelfeed index PATH [--strict] [--max-skipped SHARE] [--check] [--crop Z,Y,X] [--json]

Indexes a data set the way voxelfeed serve does (NRRD headers and box files only, no voxel data) and prints
its summary: series, nodules, decoded size, fingerprint, and every series that would be skipped, with why.
Warnings and the reasons for a failing exit status are printed on stderr as well.

  PATH                 a folder in the LUNA16 preprocessed layout, or a manifest (.csv or .json)
  --strict             exit with status 1 if any series is bad
  --max-skipped SHARE  exit with status 1 if more than this share of the series is skipped, as serve then
                       refuses to start: e.g. 0.1 or 10% (default ${DEFAULT_MAX_SKIPPED_SHARE}; 1: any share; also ${MAX_SKIPPED_VARIABLE})
  --check              also read every mask once and check each box centre against it (a nodule voxel within
                       one voxel); list the series whose boxes miss, with the likely cause (axes swapped,
                       millimetres instead of voxels), and exit with status 1 if there is any
  --crop Z,Y,X         warn about nodules larger than this crop on an axis: no such crop holds them whole
  --json               print one JSON object instead of text

Exit status: 0 if the data set can be served as checked, 1 if not (the reason is on stderr), 2 for a bad
command line.`;

export async function runIndex(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      strict: { type: 'boolean' },
      'max-skipped': { type: 'string' },
      check: { type: 'boolean' },
      crop: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${INDEX_HELP}\n`);
    return 0;
  }
  const problems: string[] = [];
  if (positionals.length !== 1) problems.push(`expected one PATH, got ${positionals.length}`);
  const maxSkipped = maxSkippedOf(values['max-skipped'], env, problems);
  const crop = values.crop === undefined ? null : cropOf(values.crop, problems);
  if (problems.length > 0) {
    process.stderr.write(`voxelfeed index: ${problems.join('\nvoxelfeed index: ')}\n\n${INDEX_HELP}\n`);
    return 2;
  }
  const started = performance.now();
  // Every series skipped is still a summary worth printing; serve would refuse such a data set.
  const catalog = await buildCatalog({ source: positionals[0]!, allowEmpty: true });
  const masks = values.check && catalog.series.length > 0 ? await checkCatalogMasks(catalog) : null;
  const ms = Math.round(performance.now() - started);
  const larger = crop === null ? null : nodulesLargerThanCrop(catalog.series, crop);

  const failures: string[] = [];
  const warnings: string[] = [];
  const tooManySkipped = skippedShareProblem(catalog, maxSkipped, 'index');
  if (tooManySkipped !== null) failures.push(tooManySkipped);
  const skipWarning = skippedShareWarning(catalog, maxSkipped, 'index');
  if (skipWarning !== null) warnings.push(skipWarning);
  if (values.strict && catalog.skipped.length > 0 && tooManySkipped === null) {
    failures.push(`${catalog.skipped.length} series are skipped and --strict allows none`);
  }
  if (masks !== null) failures.push(...maskFailures(masks));
  if (catalog.series.length === 0 && failures.length === 0) {
    failures.push('nothing to serve: voxelfeed serve would refuse this data set');
  }
  if (crop !== null && larger !== null) {
    const text = describeNodulesLargerThanCrop(larger, crop);
    if (text !== null) warnings.push(`warning: ${text}`);
  }

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
        skipped_share: skippedShare(catalog),
        max_skipped: maxSkipped,
        ...(masks === null
          ? {}
          : {
              box_check: {
                checked: masks.checked,
                mismatched: masks.mismatched,
                unreadable: masks.unreadable,
              },
            }),
        ...(larger === null || crop === null ? {} : { larger_than_crop: { crop, ...larger } }),
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
      ...(masks === null
        ? []
        : [
            `box check    ${masks.checked} series with boxes: ${masks.mismatched.length} miss their mask, ${masks.unreadable.length} unreadable`,
            ...masks.mismatched.map((entry) => `  ${entry.uid}: ${entry.reason}`),
            ...masks.unreadable.map((entry) => `  ${entry.uid}: mask unreadable: ${entry.reason}`),
          ]),
      ...(larger === null || crop === null
        ? []
        : [`crop         ${crop.join('x')}: ${larger.count} of ${larger.of} nodules larger on an axis`]),
      ...(catalog.series.length === 0
        ? ['nothing to serve: voxelfeed serve would refuse this data set']
        : []),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const line of [...warnings, ...failures]) process.stderr.write(`voxelfeed index: ${line}\n`);
  return failures.length > 0 ? 1 : 0;
}

/** --max-skipped, else VOXELFEED_MAX_SKIPPED (as serve reads it), else the default. */
function maxSkippedOf(flag: string | undefined, env: NodeJS.ProcessEnv, problems: string[]): number {
  const fromEnv = env[MAX_SKIPPED_VARIABLE];
  const [text, shown] =
    flag !== undefined
      ? [flag, `--max-skipped ${flag}`]
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, `${MAX_SKIPPED_VARIABLE}=${fromEnv}`]
        : [null, ''];
  if (text === null) return DEFAULT_MAX_SKIPPED_SHARE;
  const share = parseShare(text);
  if (share === null) {
    problems.push(`${shown}: must be a share from 0 to 1 (or 0% to 100%); e.g. --max-skipped 0.1`);
    return DEFAULT_MAX_SKIPPED_SHARE;
  }
  return share;
}

function cropOf(text: string, problems: string[]): Shape3 | null {
  const sizes = text.split(',').map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));
  if (sizes.length !== 3 || !sizes.every((size) => Number.isSafeInteger(size) && size >= 1)) {
    problems.push(
      `--crop ${text}: give three positive integers Z,Y,X (NRRD axes 0, 1, 2); e.g. --crop 16,96,96`,
    );
    return null;
  }
  return [sizes[0]!, sizes[1]!, sizes[2]!];
}

/** The lines that make `--check` fail: boxes that miss their mask, masks that cannot be read. */
function maskFailures(masks: CatalogMaskReport): string[] {
  const failures: string[] = [];
  const first = masks.mismatched[0];
  if (first !== undefined) {
    failures.push(
      `box centres miss the mask in ${masks.mismatched.length} of ${masks.checked} series with boxes (${formatShare(masks.mismatched.length / masks.checked)}; first: ${first.uid}: ${first.reason})`,
    );
  }
  const unreadable = masks.unreadable[0];
  if (unreadable !== undefined) {
    failures.push(
      `${masks.unreadable.length} masks cannot be read (first: ${unreadable.uid}: ${unreadable.reason}); the server would end the streams that need them with DATA_LOSS`,
    );
  }
  return failures;
}
