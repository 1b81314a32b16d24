import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The workspace packages (package name -> repository folder), from the root package.json and theirs. */
export async function workspaceFolders(): Promise<Map<string, string>> {
  const read = async (folder: string) =>
    JSON.parse(await readFile(path.join(REPO_ROOT, folder, 'package.json'), 'utf8')) as {
      name: string;
      workspaces?: string[];
    };
  const folders = new Map<string, string>();
  for (const folder of (await read('.')).workspaces ?? []) folders.set((await read(folder)).name, folder);
  return folders;
}

/** The TypeScript sources under a repository folder (names relative to it), without build output. */
export async function sourceFiles(folder: string): Promise<string[]> {
  const names = await readdir(path.join(REPO_ROOT, folder), { recursive: true });
  return names
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .filter((name) => !name.split(path.sep).some((part) => part === 'dist' || part === 'node_modules'));
}

/** The module specifiers a source imports or re-exports, static or dynamic. */
export function importSpecifiers(source: string): string[] {
  return [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1] ?? '');
}

/**
 * Where an import lands: for a relative specifier or a workspace package (`@voxelfeed/common/x.js`), the
 * repository path it names (`common/x.js`, relative to the root); for anything else (a dependency, a node
 * built-in), the specifier itself.
 */
export function importTarget(file: string, specifier: string, packages: ReadonlyMap<string, string>): string {
  if (specifier.startsWith('.')) return path.relative(REPO_ROOT, path.resolve(path.dirname(file), specifier));
  for (const [name, folder] of packages) {
    if (specifier === name || specifier.startsWith(`${name}/`))
      return path.join(folder, specifier.slice(name.length));
  }
  return specifier;
}

/** Whether a repository path returned by `importTarget` lies in one of the top-level `folders`. */
export function isUnder(target: string, folders: readonly string[]): boolean {
  return folders.some((top) => target === top || target.startsWith(`${top}${path.sep}`));
}
