import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { VoxelfeedError } from '../../errors.js';
import type { SeriesFiles } from './series-files.js';

const COLUMNS = ['id', 'image', 'mask', 'boxes'] as const;
const BYTE_ORDER_MARK = '\uFEFF';

/**
 * Reads a manifest listing series in any layout: CSV with the header `id,image,mask,boxes` (any column
 * order, extra columns ignored, `#` lines and blank lines skipped, cells optionally in double quotes), or
 * JSON, either an array of `{ "id", "image", "mask", "boxes" }` objects or `{ "series": [...] }`. Relative
 * paths are resolved against the manifest's folder. A malformed manifest is fatal (it is the whole data
 * set), with the line or entry named.
 */
export async function readManifest(manifestPath: string): Promise<SeriesFiles[]> {
  const raw = await readFile(manifestPath, 'utf8').catch((error: unknown) => {
    throw new VoxelfeedError(
      'DATA_LOSS',
      `${manifestPath}: cannot read the manifest (${error instanceof Error ? error.message : String(error)})`,
      { cause: error },
    );
  });
  // Spreadsheets save CSV with a byte order mark, which would otherwise stick to the first column's name.
  const text = raw.startsWith(BYTE_ORDER_MARK) ? raw.slice(1) : raw;
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
  // Line numbers are counted before blank and comment lines are dropped, so messages match an editor's.
  const lines = text
    .split(/\r?\n/)
    .map((line, i) => ({ line, number: i + 1 }))
    .filter(({ line }) => line.trim().length > 0 && !line.trimStart().startsWith('#'));
  const first = lines[0];
  if (first === undefined) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${source}: the manifest is empty; expected the header id,image,mask,boxes`,
    );
  }
  const header = splitCsvLine(first.line).map((cell) => cell.toLowerCase());
  const positions = COLUMNS.map((column) => header.indexOf(column));
  const missing = COLUMNS.filter((_, i) => positions[i] === -1);
  if (missing.length > 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${source}: line ${first.number}, the manifest header "${clip(first.line)}", lacks ${missing.join(', ')}; expected the header id,image,mask,boxes (--data takes a folder, or a .csv or .json manifest)`,
    );
  }
  return lines.slice(1).map(({ line, number }) => {
    const cells = splitCsvLine(line);
    const row = Object.fromEntries(
      COLUMNS.map((column, c) => [column, cells[positions[c] ?? -1] ?? '']),
    ) as ManifestRow;
    if (row.id === '') {
      throw new VoxelfeedError(
        'INVALID_ARGUMENT',
        `${source}: line ${number} "${clip(line)}" has an empty id; every row needs one`,
      );
    }
    return row;
  });
}

/** One CSV line into trimmed cells; a cell may be in double quotes (with "" for a quote), e.g. a path with a comma. */
function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char !== '"') cell += char;
      else if (line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (char === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (char === ',') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += char;
    }
  }
  cells.push(cell.trim());
  return cells;
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
      COLUMNS.map((column) => [
        column,
        typeof record[column] === 'string' ? (record[column] as string).trim() : '',
      ]),
    ) as ManifestRow;
    if (row.id === '') {
      throw new VoxelfeedError(
        'INVALID_ARGUMENT',
        `${source}: entry ${i} (counting from 0) has no string "id"; every entry needs one`,
      );
    }
    return row;
  });
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
