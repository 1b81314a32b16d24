import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Which tier each test file runs in. Files stay where they are (test/ mirrors the source tree); these rules
 * sort them. The first rule whose pattern matches a file's path (relative to the repository root, `/`
 * separated) decides its tier: first the exceptions, then the folders; `*` matches within one path segment,
 * `**` across segments. A file no rule matches, or an exception that matches no file, is an error.
 *
 * - unit: one node process tree, no sockets (not even 127.0.0.1), no program but node, no root. It runs
 *   with `test/support/unit-tier-guard.ts` loaded, which fails a test that opens a socket or runs another
 *   program. Under a minute on two cores.
 * - integration: real servers on 127.0.0.1 and the independent tools the tests compare against (teem-unu,
 *   numpy, protoc, promtool, openssl, coreutils).
 * - system: the product as deployed: the voxelfeed CLI end to end, deploy files, faults (kills, signals),
 *   soak and load runs, a real Prometheus scraping real processes, network namespaces as root.
 */
export const TIERS = ['unit', 'integration', 'system'] as const;
export type Tier = (typeof TIERS)[number];

export interface TierRule {
  readonly pattern: string;
  readonly tier: Tier;
}

export interface TierException extends TierRule {
  /** Why the files it matches leave their folder's tier. */
  readonly why: string;
}

/** Files that leave their folder's tier. Each must match a test file, so none lapses when a file moves. */
export const TIER_EXCEPTIONS: readonly TierException[] = [
  { pattern: '**/uid-hash.test.ts', tier: 'integration', why: 'python3 computes the reference hashes' },
  { pattern: '**/tile-grid-numpy.test.ts', tier: 'integration', why: 'numpy computes the reference grid' },
  {
    pattern: '**/augment-numpy.test.ts',
    tier: 'integration',
    why: 'teem-unu and numpy write the files, numpy computes the reference crops',
  },
  { pattern: '**/token-file.test.ts', tier: 'integration', why: 'sha256sum computes the reference digest' },
  { pattern: '**/read-tls-files.test.ts', tier: 'integration', why: 'openssl makes the certificates' },
  { pattern: '**/read-feed-security.test.ts', tier: 'integration', why: 'openssl makes the certificates' },
  { pattern: '**/nrrd-reader.test.ts', tier: 'integration', why: 'teem-unu writes the files' },
  { pattern: '**/nrrd-writer.test.ts', tier: 'integration', why: 'teem-unu reads the files back' },
  { pattern: '**/load-series-volume.test.ts', tier: 'integration', why: 'teem-unu writes the files' },
  {
    pattern: 'test/server/workers/crop-workers.test.ts',
    tier: 'integration',
    why: 'its worker threads load the TypeScript sources through tsx, whose esbuild runs as a program',
  },
  { pattern: '**/npy-reader.test.ts', tier: 'integration', why: 'numpy writes the files' },
  { pattern: '**/npy-writer.test.ts', tier: 'integration', why: 'numpy reads the files back' },
  { pattern: '**/build-catalog.test.ts', tier: 'integration', why: 'teem-unu and numpy write the files' },
  { pattern: '**/check-catalog-masks.test.ts', tier: 'integration', why: 'numpy writes the masks' },
  {
    pattern: '**/connected-components-scipy.test.ts',
    tier: 'integration',
    why: 'scipy labels the reference components',
  },
  {
    pattern: '**/write-phantom-dataset.test.ts',
    tier: 'integration',
    why: 'teem-unu and numpy read it back',
  },
  {
    pattern: '**/nrrd-slab-writer.test.ts',
    tier: 'integration',
    why: 'teem-unu and numpy read the files back',
  },
  {
    pattern: '**/importance-map-scipy.test.ts',
    tier: 'integration',
    why: 'scipy computes the reference map',
  },
  { pattern: '**/create-feed-client.test.ts', tier: 'integration', why: 'streams from real servers' },
  { pattern: '**/rank-affinity.test.ts', tier: 'integration', why: 'streams from real servers' },
  { pattern: '**/reconnect.test.ts', tier: 'integration', why: 'stops and restarts real servers' },
  { pattern: '**/server-cancel.test.ts', tier: 'integration', why: 'streams from a real server' },
  { pattern: '**/unary-call.test.ts', tier: 'integration', why: 'calls a scripted server on 127.0.0.1' },
  { pattern: '**/start-server-ports.test.ts', tier: 'integration', why: 'binds 127.0.0.1' },
  {
    pattern: '**/call-telemetry-interceptor.test.ts',
    tier: 'integration',
    why: 'counts calls to a real server on 127.0.0.1',
  },
  { pattern: '**/noop-telemetry.test.ts', tier: 'integration', why: 'starts a server without /metrics' },
  { pattern: '**/probe-listen.test.ts', tier: 'integration', why: 'binds 127.0.0.1' },
  {
    pattern: '**/feed-failure.test.ts',
    tier: 'integration',
    why: 'runs voxelfeed train against a closed port',
  },
  { pattern: '**/train-resume.test.ts', tier: 'integration', why: 'trains against a real server' },
  {
    pattern: '**/train-same-host.test.ts',
    tier: 'integration',
    why: 'trains against a real server, through /dev/shm and through the socket',
  },
  {
    pattern: '**/train-ranks.test.ts',
    tier: 'integration',
    why: 'ranks join on 127.0.0.1 and train against a real server',
  },
  {
    pattern: '**/train-lost-rank.test.ts',
    tier: 'integration',
    why: 'kills a voxelfeed train process of two joined on 127.0.0.1',
  },
  {
    pattern: '**/run-infer.test.ts',
    tier: 'integration',
    why: 'infers from a real server; teem-unu and numpy read the files back',
  },
  { pattern: '**/vnet-training.test.ts', tier: 'integration', why: 'trains a V-Net for tens of seconds' },
  {
    pattern: '**/prometheus-scrape.test.ts',
    tier: 'system',
    why: 'a real Prometheus scrapes real processes',
  },
];

/** The tier of every other test file, by folder. Folders may be empty. */
export const TIER_FOLDERS: readonly TierRule[] = [
  { pattern: 'test/client/**', tier: 'unit' },
  { pattern: 'test/common/**', tier: 'unit' },
  { pattern: 'test/server/**', tier: 'unit' },
  { pattern: 'test/trainer/**', tier: 'unit' },
  { pattern: 'test/scripts/**', tier: 'unit' },
  { pattern: 'test/docs/**', tier: 'unit' },
  { pattern: 'test/support/**', tier: 'unit' },
  { pattern: 'test/fuzz/**', tier: 'integration' },
  { pattern: 'test/integration/**', tier: 'integration' },
  { pattern: 'test/proto/**', tier: 'integration' },
  { pattern: 'test/bench/**', tier: 'system' },
  { pattern: 'test/bin/**', tier: 'system' },
  { pattern: 'test/deploy/**', tier: 'system' },
  { pattern: 'test/faults/**', tier: 'system' },
  { pattern: 'test/multihost/**', tier: 'system' },
  { pattern: 'test/packages/**', tier: 'system' },
];

export const TIER_RULES: readonly TierRule[] = [...TIER_EXCEPTIONS, ...TIER_FOLDERS];

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every `*.test.ts` under test/, relative to the repository root, sorted. */
export function listTestFiles(root: string = REPO_ROOT): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.test.ts')) files.push(relative);
    }
  };
  walk('test');
  return files.sort();
}

export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` matches the rest.
      const slash = pattern[i + 2] === '/';
      source += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (char === '*') {
      source += '[^/]*';
    } else {
      source += char.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** The first rule that matches `file`, or undefined. */
export function ruleFor(file: string, rules: readonly TierRule[] = TIER_RULES): TierRule | undefined {
  return rules.find((rule) => globToRegExp(rule.pattern).test(file));
}

export interface TierProblems {
  /** Test files no rule matches. */
  readonly unclassified: readonly string[];
  /** Exceptions that match no test file (the file moved or went). */
  readonly unused: readonly TierException[];
}

export function tierProblems(
  files: readonly string[],
  exceptions: readonly TierException[] = TIER_EXCEPTIONS,
  folders: readonly TierRule[] = TIER_FOLDERS,
): TierProblems {
  const rules = [...exceptions, ...folders];
  const used = new Set<TierRule>();
  const unclassified: string[] = [];
  for (const file of files) {
    const rule = ruleFor(file, rules);
    if (rule === undefined) unclassified.push(file);
    else used.add(rule);
  }
  return { unclassified, unused: exceptions.filter((rule) => !used.has(rule)) };
}

export function filesOfTier(tier: Tier, files: readonly string[] = listTestFiles()): string[] {
  return files.filter((file) => ruleFor(file)?.tier === tier);
}

/** The node flags a tier's test processes run with (node --test passes them on to each file's process). */
export function nodeFlagsOf(tier: Tier): string[] {
  const preload = tier === 'unit' ? 'unit-tier-guard.ts' : 'missing-tool-hint.ts';
  return ['--import', 'tsx', '--import', `./test/support/${preload}`];
}

/**
 * The unit tier is CPU-bound and its files share nothing, so it runs one file per core (node's default
 * leaves one core idle). The other tiers keep node's default: their servers and tools need the spare core.
 */
export function testFlagsOf(tier: Tier): string[] {
  return tier === 'unit' ? [`--test-concurrency=${availableParallelism()}`] : [];
}

/** The Python client's tests of each tier: pytest files in one folder per tier. */
export const PYTHON_TESTS = 'client/python/tests';

/**
 * The python3 that runs the Python tests: `VOXELFEED_TEST_PYTHON`, else Debian's /usr/bin/python3 (which has
 * python3-grpcio, python3-numpy, python3-torch and python3-pytest), else `python3` on PATH.
 */
export function testPython(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VOXELFEED_TEST_PYTHON) return env.VOXELFEED_TEST_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** `pytest` over the tier's Python test folder, or null when it has no test file. */
export function pytestCommandOf(tier: Tier, root: string = REPO_ROOT): string[] | null {
  const dir = `${PYTHON_TESTS}/${tier}`;
  const full = path.join(root, dir);
  if (!existsSync(full) || !readdirSync(full).some((name) => /^test_.*\.py$/.test(name))) return null;
  // No cache folder in the working tree; -rs lists every skipped test with its reason.
  return [testPython(), '-m', 'pytest', '-q', '-rs', '-p', 'no:cacheprovider', dir];
}

/** The Python modules the Python tests import, and the Debian package of each. */
export const PYTHON_TEST_MODULES: Readonly<Record<string, string>> = {
  pytest: 'python3-pytest',
  grpc: 'python3-grpcio',
  'google.protobuf': 'python3-protobuf',
  numpy: 'python3-numpy',
  torch: 'python3-torch',
};

/** One line naming the packages `python` lacks for the Python tests, or null when it has them all. */
export function missingPythonModules(python: string): string | null {
  const missing = Object.entries(PYTHON_TEST_MODULES).filter(
    ([module]) => spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status !== 0,
  );
  if (missing.length === 0) return null;
  const packages = missing.map(([, pkg]) => pkg).join(' ');
  return `the Python tests need ${missing.map(([module]) => module).join(', ')} in ${python}: install the Debian packages ${packages} (sudo bash scripts/ensure-test-tools.sh), or point VOXELFEED_TEST_PYTHON at a python3 that has them`;
}

/**
 * `node --import tsx scripts/test-tiers.ts unit|integration|system|all [node --test flags]`: runs the tier's
 * files (all: each tier in turn, all of them even when one fails) and exits non-zero if any test failed.
 * `--list` prints the files instead.
 */
function main(argv: readonly string[]): number {
  const [which, ...rest] = argv;
  const tiers = which === 'all' ? TIERS : TIERS.filter((tier) => tier === which);
  if (tiers.length === 0) {
    console.error(`unknown test tier ${JSON.stringify(which ?? '')}; use one of ${TIERS.join(', ')} or all`);
    return 2;
  }
  const files = listTestFiles();
  const { unclassified, unused } = tierProblems(files);
  if (unclassified.length > 0 || unused.length > 0) {
    for (const file of unclassified)
      console.error(`${file} is in no test tier; add a rule in scripts/test-tiers.ts`);
    for (const rule of unused)
      console.error(
        `the tier exception ${rule.pattern} matches no test file; update it in scripts/test-tiers.ts`,
      );
    return 2;
  }
  if (rest.includes('--list')) {
    for (const tier of tiers) {
      for (const file of filesOfTier(tier, files)) console.log(file);
      const pytest = pytestCommandOf(tier);
      if (pytest !== null) console.log(`${pytest.at(-1)}/ (pytest)`);
    }
    return 0;
  }
  let status = 0;
  for (const tier of tiers) {
    if (tiers.length > 1) console.log(`# test tier: ${tier}`);
    const args = [...nodeFlagsOf(tier), '--test', ...testFlagsOf(tier), ...rest, ...filesOfTier(tier, files)];
    const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: 'inherit' });
    if (result.status !== 0) status = result.status ?? 1;
    const pytest = pytestCommandOf(tier);
    if (pytest !== null) {
      console.log(`# python tests: ${tier}`);
      const [python, ...pytestArgs] = pytest;
      const missing = missingPythonModules(python!);
      if (missing !== null) {
        console.error(missing);
        status = 1;
        continue;
      }
      const ran = spawnSync(python!, pytestArgs, { cwd: REPO_ROOT, stdio: 'inherit' });
      if (ran.status !== 0) status = ran.status ?? 1;
    }
  }
  return status;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
