import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '../errors.js';
import type { SeriesFiles } from './series-files.js';

const COLUMNS = ['id', 'image', 'mask', 'boxes'] as const;

/**
 * Reads a manifest listing series in any layout: CSV with the header `id,image,mask,boxes`, or JSON, either an
 * array of `{ "id", "image", "mask", "boxes" }` objects or `{ "series": [...] }`. Relative paths are resolved
 * against the manifest's folder. A malformed manifest is fatal (it is the whole data set), with the line named.
 */
export async function readManifest(manifestPath: string): Promise<SeriesFiles[]> {
  const text = await readFile(manifestPath, 'utf8');
  const folder = path.dirname(path.resolve(manifestPath));
  const rows = manifestPath.toLowerCase().endsWith('.json')
    ? parseJsonManifest(text, manifestPath)
    : parseCsvManifest(text, manifestPath);
  return rows.map((row) => ({
    uid: row.id,
    imagePath: row.image ? path.resolve(folder, row.image) : null,
    maskPath: row.mask ? path.resolve(folder, row.mask) : null,
    boxesPath: row.boxes ? path.resolve(folder, row.boxes) : null,
  }));
}

type ManifestRow = Record<(typeof COLUMNS)[number], string>;

function parseCsvManifest(text: string, source: string): ManifestRow[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0 && !line.startsWith('#'));
  const header = lines[0]?.split(',').map((cell) => cell.trim().toLowerCase());
  if (header === undefined) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${source}: the manifest is empty; expected the header id,image,mask,boxes`,
    );
  }
  const positions = COLUMNS.map((column) => header.indexOf(column));
  const missing = COLUMNS.filter((_, i) => positions[i] === -1);
  if (missing.length > 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${source}: the manifest header "${lines[0]}" lacks ${missing.join(', ')}; expected the header id,image,mask,boxes`,
    );
  }
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',').map((cell) => cell.trim());
    const row = Object.fromEntries(COLUMNS.map((column, c) => [column, cells[positions[c] ?? -1] ?? '']));
    if (row.id === '') {
      throw new VoxelfeedError(
        'INVALID_ARGUMENT',
        `${source}: line ${i + 2} has an empty id; every row needs one`,
      );
    }
    return row as ManifestRow;
  });
}

function parseJsonManifest(text: string, source: string): ManifestRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new VoxelfeedError('INVALID_ARGUMENT', `${source}: not valid JSON (${(error as Error).message})`, {
      cause: error,
    });
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { series?: unknown } | null)?.series;
  if (!Array.isArray(list)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${source}: expected an array of {"id","image","mask","boxes"} objects or {"series": [...]}`,
    );
  }
  return list.map((entry: unknown, i) => {
    const record = (entry ?? {}) as Record<string, unknown>;
    const row = Object.fromEntries(
      COLUMNS.map((column) => [column, typeof record[column] === 'string' ? (record[column] as string) : '']),
    ) as ManifestRow;
    if (row.id === '') {
      throw new VoxelfeedError(
        'INVALID_ARGUMENT',
        `${source}: entry ${i} has no string "id"; every entry needs one`,
      );
    }
    return row;
  });
}
