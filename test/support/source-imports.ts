import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The imports of the repository's own source files, read as text, for the tests that check which layer may
 * import which. Paths are repository paths with forward slashes (`server/dataset/nrrd/nrrd-reader.ts`); a
 * specifier resolves to one whether it is relative (`../errors.js`) or names a workspace package
 * (`@voxelfeed/common/cli/parse-share.js` is `common/cli/parse-share.ts`), so a layer is judged by where its
 * imports land, however they are spelled.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One import of a source file: the file, the specifier as written, and the repository path it names. */
export interface SourceImport {
  readonly file: string;
  readonly specifier: string;
  /** What `resolveSpecifier` makes of it: a repository path, or null for a dependency or a node built-in. */
  readonly target: string | null;
}

/** The text of a repository file. */
export function readSource(file: string): string {
  return readFileSync(path.join(ROOT, file), 'utf8');
}

/** Whether a `/`-separated path names a TypeScript source: not a declaration file, not build output. */
export function isSourcePath(name: string): boolean {
  if (!name.endsWith('.ts') || name.endsWith('.d.ts')) return false;
  return !name.split('/').some((part) => part === 'dist' || part === 'node_modules');
}

/** Every .ts source under a repository folder (recursively), as sorted repository paths, without build output. */
export function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .map((name) => name.split(path.sep).join('/'))
    .filter(isSourcePath)
    .map((name) => path.posix.join(folder, name))
    .sort();
}

/**
 * A dynamic import whose line, before it, holds only code and whole strings: no string left open (a test's
 * source text) and no comment.
 */
const DYNAMIC_IMPORT =
  /^(?![ \t]*(?:\/\*|\*))(?:[^'"`/\n]|\/(?![/*])|'[^'\n]*'|"[^"\n]*"|`[^`\n]*`)*?\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/gm;

/**
 * The module specifiers of a source file: static, type-only, side-effect, re-export and dynamic imports.
 * Statements are matched from the start of a line, and a dynamic import only outside strings and comments,
 * so a comment that says `from "x"` or a test's source text is not taken for an import.
 */
export function specifiersOf(source: string): string[] {
  return [
    ...source.matchAll(/^[ \t]*(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(/^[ \t]*import\s*['"]([^'"]+)['"]/gm),
    ...source.matchAll(DYNAMIC_IMPORT),
  ].map((match) => match[1]!);
}

interface WorkspacePackage {
  readonly name: string;
  readonly folder: string;
  /** The package's `exports`, subpath (`.`, `./*`) to file (`./dist/*`); null when it has none. */
  readonly exports: Readonly<Record<string, string>> | null;
}

let workspaceCache: readonly WorkspacePackage[] | undefined;

/** The workspace packages named in the root package.json, each with its folder and its exports. */
export function workspacePackages(): readonly WorkspacePackage[] {
  const read = (folder: string) =>
    JSON.parse(readFileSync(path.join(ROOT, folder, 'package.json'), 'utf8')) as {
      name: string;
      workspaces?: string[];
      exports?: Record<string, string>;
    };
  workspaceCache ??= (read('.').workspaces ?? []).map((folder) => {
    const { name, exports } = read(folder);
    return { name, folder, exports: exports ?? null };
  });
  return workspaceCache;
}

/** The file a package subpath (`.`, `./cli/x.js`) names through the exports map (`./*` patterns included). */
function exportedFile(exports: Readonly<Record<string, string>>, subpath: string): string | null {
  const exact = exports[subpath];
  if (exact !== undefined) return exact;
  for (const [pattern, file] of Object.entries(exports)) {
    const star = pattern.indexOf('*');
    if (star < 0) continue;
    const [before, after] = [pattern.slice(0, star), pattern.slice(star + 1)];
    if (subpath.startsWith(before) && subpath.endsWith(after) && subpath.length >= pattern.length - 1) {
      return file.replace('*', subpath.slice(before.length, subpath.length - after.length));
    }
  }
  return null;
}

/**
 * The repository path a specifier of `file` names, with compiled names mapped back to their sources
 * (`.js` to `.ts`, a package's `dist/` to its folder): a relative specifier from the file's folder, a
 * workspace package (`@voxelfeed/proto`, `@voxelfeed/server/x.js`) through its folder and its exports.
 * Null for anything else: a dependency from npm or a node built-in.
 */
export function resolveSpecifier(file: string, specifier: string): string | null {
  if (specifier.startsWith('.')) {
    return path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, '.ts');
  }
  const owner = workspacePackages().find(
    ({ name }) => specifier === name || specifier.startsWith(`${name}/`),
  );
  if (owner === undefined) return null;
  const subpath = `.${specifier.slice(owner.name.length)}`;
  // A subpath the exports do not list still lands in the package: judge it by its folder, not ignore it.
  const exported = (owner.exports === null ? null : exportedFile(owner.exports, subpath)) ?? subpath;
  const inFolder = path.posix.normalize(exported).replace(/^dist(\/|$)/, '');
  return path.posix.join(owner.folder, inFolder).replace(/\.js$/, '.ts').replace(/\/$/, '');
}

/** Every import of every source under a repository folder, in file order. */
export function sourceImports(folder: string): SourceImport[] {
  return sourceFiles(folder).flatMap((file) =>
    specifiersOf(readSource(file)).map((specifier) => ({
      file,
      specifier,
      target: resolveSpecifier(file, specifier),
    })),
  );
}

/** Whether a repository path (a `target`, null for none) is `folder` or lies in it. */
export function isInside(target: string | null, folder: string): boolean {
  return target !== null && (target === folder || target.startsWith(`${folder}/`));
}

/**
 * The npm packages reached from `files` by following the imports that land in the repository, relative or
 * by workspace package name (type-only imports included: the check errs on the strict side), each with one
 * chain of files that reaches it. Node built-ins are left out.
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
      } else if (target.endsWith('.ts') && !chains.has(target) && existsSync(path.join(ROOT, target))) {
        chains.set(target, [...chain, target]);
        queue.push(target);
      }
    }
  }
  return reached;
}
