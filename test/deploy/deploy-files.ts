import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEPLOY_DIR = path.join(REPO_ROOT, 'deploy');

/** A parsed YAML document of deploy/, as plain data. */
export type Manifest = Record<string, unknown>;

/** Every document of every .yaml/.yml file under deploy/k8s, with the file it came from. */
export async function kubernetesManifests(): Promise<Array<{ file: string; manifest: Manifest }>> {
  const dir = path.join(DEPLOY_DIR, 'k8s');
  const files = (await readdir(dir)).filter((name) => /\.ya?ml$/.test(name)).sort();
  const manifests: Array<{ file: string; manifest: Manifest }> = [];
  for (const file of files) {
    for (const manifest of await parseYamlFile(path.join(dir, file))) manifests.push({ file, manifest });
  }
  return manifests;
}

/** The documents of one YAML file; a syntax error (or a warning) fails with the file's name. */
export async function parseYamlFile(file: string): Promise<Manifest[]> {
  const documents = parseAllDocuments(await readFile(file, 'utf8'), { merge: true });
  if (!Array.isArray(documents)) return [];
  return documents.map((document) => {
    const problems = [...document.errors, ...document.warnings];
    if (problems.length > 0) throw new Error(`${file}: ${problems.map((p) => p.message).join('; ')}`);
    return document.toJS() as Manifest;
  });
}

/** The instructions of a Dockerfile: continuation lines joined, comments and blank lines dropped. */
export function dockerfileInstructions(text: string): Array<{ keyword: string; rest: string }> {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), rest: rest.join(' ') };
    });
}

/** Kubernetes memory quantity (`10Gi`, `512Mi`, `8G`, `1000`) in bytes. */
export function memoryBytes(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (match === null) throw new Error(`not a memory quantity: ${quantity}`);
  const factors: Record<string, number> = {
    '': 1,
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(match[1]) * (factors[match[2] ?? ''] ?? Number.NaN);
}

/** The `--flag` names in a container's arguments. */
export function flagsIn(args: readonly string[]): string[] {
  return args.filter((arg) => arg.startsWith('--')).map((arg) => arg.split('=')[0] ?? arg);
}

/**
 * Every `VOXELFEED_*` name written in the given source files, and every variable an option table names
 * (`variable: 'MASTER_ADDR'`, torchrun's names): the variables the programs read.
 */
export async function variablesReadBy(files: readonly string[]): Promise<Set<string>> {
  const names = new Set<string>();
  for (const file of files) {
    const text = await readFile(path.join(REPO_ROOT, file), 'utf8');
    for (const match of text.matchAll(/VOXELFEED_[A-Z0-9_]+/g)) names.add(match[0]);
    for (const match of text.matchAll(/variable: '([A-Z][A-Z0-9_]*)'/g)) names.add(match[1]!);
  }
  return names;
}
