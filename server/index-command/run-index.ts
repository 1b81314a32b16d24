import { formatBytes } from '@voxelfeed/common/cli/parse-byte-size.js';
import { formatShare } from '@voxelfeed/common/cli/parse-share.js';
import { type CatalogMaskReport, checkCatalogMasks } from '../dataset/box-check/check-catalog-masks.js';
import { buildCatalog } from '../dataset/catalog/build-catalog.js';
import { skippedShare, skippedShareProblem, skippedShareWarning } from '../dataset/catalog/skipped-share.js';
import {
  describeNodulesLargerThanCrop,
  nodulesLargerThanCrop,
} from '../sampling/nodules-larger-than-crop.js';
import { INDEX_HELP, parseIndexOptions } from './index-options.js';

export async function runIndex(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const options = parseIndexOptions(argv, env);
  if (options === 'help') {
    process.stdout.write(`${INDEX_HELP}\n`);
    return 0;
  }
  const { maxSkipped, crop } = options;
  const started = performance.now();
  // Every series skipped is still a summary worth printing; serve would refuse such a data set.
  const catalog = await buildCatalog({ source: options.source, allowEmpty: true });
  const masks = options.check && catalog.series.length > 0 ? await checkCatalogMasks(catalog) : null;
  const ms = Math.round(performance.now() - started);
  const larger = crop === null ? null : nodulesLargerThanCrop(catalog.series, crop);

  const failures: string[] = [];
  const warnings: string[] = [];
  const tooManySkipped = skippedShareProblem(catalog, maxSkipped, 'index');
  if (tooManySkipped !== null) failures.push(tooManySkipped);
  const skipWarning = skippedShareWarning(catalog, maxSkipped, 'index');
  if (skipWarning !== null) warnings.push(skipWarning);
  if (options.strict && catalog.skipped.length > 0 && tooManySkipped === null) {
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

  if (options.json) {
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
