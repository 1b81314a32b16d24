import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One import of a source file: the file (from the repository root) and the specifier as written. */
export interface ModuleImport {
  readonly file: string;
  readonly specifier: string;
  /** For a relative specifier, what it resolves to from the repository root; otherwise null. */
  readonly target: string | null;
}

/** Every import (static, type-only, side-effect, dynamic) of every .ts file under `folder` (from the root). */
export async function moduleImports(folder: string): Promise<ModuleImport[]> {
  const base = path.join(ROOT, folder);
  const names = (await readdir(base, { recursive: true })).filter((name) => name.endsWith('.ts'));
  const found: ModuleImport[] = [];
  for (const name of names.sort()) {
    const file = path.join(base, name);
    const source = await readFile(file, 'utf8');
    for (const match of source.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const specifier = match[1]!;
      const target = specifier.startsWith('.')
        ? path
            .relative(ROOT, path.resolve(path.dirname(file), specifier))
            .split(path.sep)
            .join('/')
        : null;
      found.push({ file: `${folder}/${name}`, specifier, target });
    }
  }
  return found;
}

/** Whether `target` (from the root) lies in `folder` (from the root). */
export function isInside(target: string | null, folder: string): boolean {
  return target !== null && (target === folder || target.startsWith(`${folder}/`));
}
