import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '../../errors.js';
import type { SeriesFiles, SkippedSeries } from './series-files.js';

const SUFFIXES = [
  { suffix: '_clean.nrrd', role: 'image' },
  { suffix: '_clean.nhdr', role: 'image' },
  { suffix: '_mask.nrrd', role: 'mask' },
  { suffix: '_mask.nhdr', role: 'mask' },
  { suffix: '_bboxes.npy', role: 'boxes' },
] as const;

type Role = (typeof SUFFIXES)[number]['role'];

interface MutableFiles {
  uid: string;
  image: string | null;
  mask: string | null;
  boxes: string | null;
}

/**
 * Groups the files of a LUNA16-preprocessed folder (and its subfolders, e.g. subset0..subset9) by series:
 * `<uid>_clean.nrrd`, `<uid>_mask.nrrd`, `<uid>_bboxes.npy`. Only names are read here, never file contents.
 * A uid seen twice with the same role (in two subfolders) is reported, naming every pair, and skipped.
 */
export async function findSeriesFiles(
  root: string,
): Promise<{ files: SeriesFiles[]; skipped: SkippedSeries[] }> {
  const names = await readdir(root, { recursive: true }).catch((error: unknown) => {
    // e.g. EACCES on one subfolder: a plain Error here would crash the CLI with a stack trace.
    throw new VoxelfeedError(
      'DATA_LOSS',
      `cannot list the data set folder ${root} (${error instanceof Error ? error.message : String(error)}); make it and its subfolders readable`,
      { cause: error },
    );
  });
  const byUid = new Map<string, MutableFiles>();
  // Every role found twice, so the message names each pair of files, not only the last one seen.
  const duplicated = new Map<string, string[]>();
  for (const relative of names.sort()) {
    const base = path.basename(relative);
    const match = SUFFIXES.find((entry) => base.endsWith(entry.suffix));
    if (match === undefined) continue;
    const uid = base.slice(0, -match.suffix.length);
    if (uid.length === 0) continue;
    const entry = byUid.get(uid) ?? { uid, image: null, mask: null, boxes: null };
    byUid.set(uid, entry);
    const full = path.join(root, relative);
    const role: Role = match.role;
    const previous = entry[role];
    if (previous !== null) {
      duplicated.set(uid, [...(duplicated.get(uid) ?? []), `two ${role} files: ${previous} and ${full}`]);
      continue;
    }
    entry[role] = full;
  }
  const files: SeriesFiles[] = [];
  const skipped: SkippedSeries[] = [];
  for (const entry of byUid.values()) {
    const duplicate = duplicated.get(entry.uid);
    if (duplicate !== undefined) {
      skipped.push({ uid: entry.uid, reason: `${duplicate.join('; ')}; keep one copy of the series` });
      continue;
    }
    files.push({ uid: entry.uid, imagePath: entry.image, maskPath: entry.mask, boxesPath: entry.boxes });
  }
  return { files, skipped };
}
