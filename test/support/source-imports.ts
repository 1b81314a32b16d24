import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The imports of the repository's own source files, read as text, for the tests that check which layer may
 * import which. Paths are repository paths with forward slashes (`server/dataset/nrrd/nrrd-reader.ts`).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The module specifiers of a source file: static, side-effect, re-export and dynamic imports. Statements are
 * matched from the start of a line, so a comment that says `from "x"` is not taken for one.
 */
export function specifiersOf(source: string): string[] {
  return [
    ...source.matchAll(/^\s*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1]!);
}

/** The repository path a relative specifier of `file` names (`.js` mapped to the `.ts` source), else null. */
export function resolveSpecifier(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
  return target.replace(/\.js$/, '.ts');
}

/** Every .ts file under a repository folder (recursively), as repository paths, sorted. */
export function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.posix.join(folder, name.split(path.sep).join('/')))
    .sort();
}

/** The text of a repository file. */
export function readSource(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/**
 * The packages reached from `files` by following relative imports through the repository (type-only imports
 * included: the check errs on the strict side), each with one chain of files that reaches it.
 */
export function packagesReached(files: readonly string[]): Map<string, string[]> {
  const reached = new Map<string, string[]>();
  const chains = new Map<string, string[]>(files.map((file) => [file, [file]]));
  const queue = [...files];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    const chain = chains.get(next)!;
    for (const specifier of specifiersOf(readSource(next))) {
      const target = resolveSpecifier(next, specifier);
      if (target === null) {
        if (!specifier.startsWith('node:') && !reached.has(specifier)) reached.set(specifier, chain);
      } else if (!chains.has(target) && existsSync(path.join(ROOT, target))) {
        chains.set(target, [...chain, target]);
        queue.push(target);
      }
    }
  }
  return reached;
}
