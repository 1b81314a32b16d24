import { stat } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '../../errors.js';
import type { Nodule, Shape3 } from '../../sampling/types.js';
import { mapWithConcurrency } from '../map-with-concurrency.js';
import { readBoxesNpy } from '../npy/npy-reader.js';
import { readNrrdHeaderFile } from '../nrrd/nrrd-header.js';
import { spatialAxes, spatialShape } from '../nrrd/spatial-shape.js';
import { voxelSpacing } from '../nrrd/voxel-spacing.js';
import type { Catalog, CatalogSeries } from './catalog.js';
import { catalogFingerprint } from './catalog-fingerprint.js';
import { findSeriesFiles } from './find-series-files.js';
import { readManifest } from './read-manifest.js';
import type { SeriesFiles, SkippedSeries } from './series-files.js';

export interface BuildCatalogOptions {
  /** A folder in the LUNA16 preprocessed layout, or a manifest file (.csv or .json). */
  readonly source: string;
  /** The data set's name in requests; defaults to the folder's or manifest's base name. */
  readonly name?: string;
  /** Fail on the first bad series instead of skipping it. */
  readonly strict?: boolean;
  /** Header reads in flight at once. */
  readonly concurrency?: number;
  /**
   * Return a catalog with no series instead of failing (`voxelfeed index` lists what was skipped). A server
   * with nothing to serve would only fail every request later, so by default that is refused here.
   */
  readonly allowEmpty?: boolean;
}

/**
 * Indexes a data set from NRRD headers and box arrays only, never voxel data, so start-up time grows with
 * the number of series, not their size. A series with a missing file, an unreadable header, mismatched
 * image and mask shapes or boxes outside the volume is reported in `skipped` and left out; with `strict`
 * the first such problem is fatal.
 */
export async function buildCatalog(options: BuildCatalogOptions): Promise<Catalog> {
  const source = path.resolve(options.source);
  const info = await stat(source).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be read (${code})`;
    throw new VoxelfeedError(
      'NOT_FOUND',
      `data set ${options.source} ${problem}; pass a folder or a manifest (.csv or .json) to --data`,
      { cause: error },
    );
  });
  const manifest = info.isDirectory() ? null : source;
  const listing =
    manifest === null
      ? await findSeriesFiles(source)
      : { files: await readManifest(manifest), skipped: [] as SkippedSeries[] };
  const skipped: SkippedSeries[] = [...listing.skipped];
  const results = await mapWithConcurrency(listing.files, options.concurrency ?? 32, (files) =>
    indexSeries(files, manifest),
  );
  const series: CatalogSeries[] = [];
  const seen = new Set<string>();
  for (const result of results) {
    if ('reason' in result) {
      skipped.push(result);
    } else if (seen.has(result.uid)) {
      skipped.push({
        uid: result.uid,
        reason: `series id ${result.uid} is listed twice in ${source}; the first row is served, remove the other`,
      });
    } else {
      seen.add(result.uid);
      series.push(result);
    }
  }
  // Sorted before any message picks a "first" example, so the message does not depend on listing order.
  series.sort((a, b) => compareUids(a.uid, b.uid));
  skipped.sort((a, b) => compareUids(a.uid, b.uid));
  if (options.strict && skipped.length > 0) {
    const first = skipped[0]!;
    throw new VoxelfeedError(
      'FAILED_PRECONDITION',
      `${skipped.length} series cannot be served (first: ${first.uid}: ${first.reason}); fix them or run without --strict to skip them`,
    );
  }
  if (series.length === 0 && !options.allowEmpty) {
    throw new VoxelfeedError('FAILED_PRECONDITION', emptyCatalogMessage(source, manifest, skipped));
  }
  const name = options.name ?? path.basename(source).replace(/\.(csv|json)$/i, '');
  return {
    name,
    source,
    series,
    skipped,
    nodules: series.reduce((sum, entry) => sum + entry.nodules.length, 0),
    fingerprint: catalogFingerprint(series),
    decodedBytes: series.reduce(
      (sum, entry) => sum + 2 * entry.shape[0] * entry.shape[1] * entry.shape[2],
      0,
    ),
  };
}

async function indexSeries(
  files: SeriesFiles,
  manifest: string | null,
): Promise<CatalogSeries | SkippedSeries> {
  const { uid, imagePath, maskPath, boxesPath } = files;
  if (imagePath === null || maskPath === null || boxesPath === null) {
    return { uid, reason: missingFileReason(files, manifest) };
  }
  try {
    const [imageHeader, maskHeader, nodules] = await Promise.all([
      readNrrdHeaderFile(imagePath),
      readNrrdHeaderFile(maskPath),
      readBoxesNpy(boxesPath),
    ]);
    const shape = spatialShape(imageHeader.sizes, imageHeader.kinds, imagePath);
    const maskShape = spatialShape(maskHeader.sizes, maskHeader.kinds, maskPath);
    if (!sameShape(shape, maskShape)) {
      return {
        uid,
        reason: `image ${imagePath} has shape ${shape.join('x')} but mask ${maskPath} has ${maskShape.join('x')}; save the mask with the image's sizes`,
      };
    }
    const outside = nodules.findIndex((nodule) => !insideVolume(nodule, shape));
    if (outside !== -1) {
      const nodule = nodules[outside]!;
      return {
        uid,
        reason: `${boxesPath}: row ${outside} centre (${nodule.center.join(', ')}) lies outside the volume ${shape.join('x')}; boxes must be voxel coordinates along NRRD axes 0, 1, 2`,
      };
    }
    const spacing = voxelSpacing(imageHeader, spatialAxes(imageHeader.sizes, imageHeader.kinds, imagePath));
    return { uid, shape, nodules, imagePath, maskPath, boxesPath, spacing };
  } catch (error) {
    return { uid, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Names the missing file, where it was looked for, and what to do. */
function missingFileReason(files: SeriesFiles, manifest: string | null): string {
  const { uid } = files;
  const role = files.imagePath === null ? 'image' : files.maskPath === null ? 'mask' : 'boxes';
  const fix =
    role === 'boxes'
      ? '; save an empty (0, 4) float array for a series without nodules'
      : role === 'image'
        ? "; add it, or remove the series' other files"
        : '; add it (same sizes as the image)';
  if (manifest !== null) {
    return `${manifest}: the row of ${uid} has no ${role} path; fill its "${role}" column${role === 'boxes' ? fix : ''}`;
  }
  const present = files.imagePath ?? files.maskPath ?? files.boxesPath ?? '';
  const expected =
    role === 'image' ? `${uid}_clean.nrrd` : role === 'mask' ? `${uid}_mask.nrrd` : `${uid}_bboxes.npy`;
  return `no ${role} file ${expected}${role === 'boxes' ? '' : ' (or .nhdr)'} next to ${present}${fix}`;
}

function emptyCatalogMessage(
  source: string,
  manifest: string | null,
  skipped: readonly SkippedSeries[],
): string {
  const first = skipped[0];
  if (first !== undefined) {
    return `none of the ${skipped.length} series in ${source} can be served (first: ${first.uid}: ${first.reason}); run voxelfeed index ${source} for the full list`;
  }
  if (manifest !== null) return `${manifest} lists no series; add rows id,image,mask,boxes`;
  return `no series found in ${source}: expected <uid>_clean.nrrd, <uid>_mask.nrrd and <uid>_bboxes.npy files in it or its subfolders; pass the folder that holds them, or a manifest (.csv or .json)`;
}

function compareUids(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameShape(a: Shape3, b: Shape3): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

function insideVolume(nodule: Nodule, shape: Shape3): boolean {
  return nodule.center.every((c, axis) => c > -0.5 && c < shape[axis]! - 0.5);
}
