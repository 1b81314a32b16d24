import { parseArgs } from 'node:util';
import { VoxelfeedError } from '../errors.js';
import type { Shape3 } from '../sampling/types.js';
import {
  MAX_NODULES_PER_SERIES,
  MAX_PHANTOM_VOXELS,
  MIN_PHANTOM_SIZE,
  NEGATIVE_SERIES_PERIOD,
} from './phantom-volume.js';
import { MAX_PHANTOM_SERIES, PHANTOM_MANIFEST_NAME } from './write-phantom-dataset.js';

export interface SynthArgs {
  readonly outDir: string;
  readonly series: number;
  readonly shape: Shape3;
  readonly seed: bigint;
  /** `--help` or `-h` was given: print SYNTH_HELP and nothing else is checked (outDir is then ''). */
  readonly help: boolean;
}

export const SYNTH_DEFAULTS = { series: 8, shape: [64, 128, 128] as Shape3, seed: 0n } as const;

const MAX_SEED = 2n ** 64n - 1n;

export const SYNTH_HELP = `Usage: voxelfeed synth OUT [--series N] [--shape Z,Y,X] [--seed S]

Writes a LUNA16-like phantom data set into the folder OUT (created if missing), with no download:
per series a body, two lungs, vessels and 0 to ${MAX_NODULES_PER_SERIES} spherical nodules, plus noise. The same options
give the same files, byte for byte.

Options:
  --series N      how many series, 1..${MAX_PHANTOM_SERIES} (default ${SYNTH_DEFAULTS.series})
  --shape Z,Y,X   volume sizes along NRRD axes 0, 1, 2, each an integer >= ${MIN_PHANTOM_SIZE}
                  (default ${SYNTH_DEFAULTS.shape.join(',')}); nodules shrink to fit small shapes
  --seed S        a whole number 0..${MAX_SEED} (default ${SYNTH_DEFAULTS.seed})
  -h, --help      print this help

Files written in OUT, per series (uid like 1.3.6.1.4.1.14519.5.2.1.6279.6001.<digits>):
  <uid>_clean.nrrd    uint8 CT image (lung window, 0..255), gzip NRRD
  <uid>_mask.nrrd     uint8 nodule mask, 1 on nodule voxels, same sizes
  <uid>_bboxes.npy    float32 (N, 4) rows [c0, c1, c2, d]: nodule centre in voxels along
                      NRRD axes 0, 1, 2 and its diameter in voxels; (0, 4) for no nodule
and ${PHANTOM_MANIFEST_NAME} (options, file list, nodules). One series in ${NEGATIVE_SERIES_PERIOD} has no nodule.

Example:
  voxelfeed synth ./data/phantom --series 64 --shape 128,192,192 --seed 7
`;

const OPTION_NAMES = ['series', 'shape', 'seed', 'help'] as const;
const EXAMPLE_SHAPE = '128,192,192';

function parseSeries(text: string, problems: string[]): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= MAX_PHANTOM_SERIES)) {
    problems.push(`--series ${text}: must be an integer from 1 to ${MAX_PHANTOM_SERIES}; e.g. --series 8`);
  }
  return value;
}

function parseShape(text: string, problems: string[]): Shape3 {
  const parts = text.split(',');
  if (parts.length !== 3) {
    problems.push(
      `--shape ${text}: give three sizes Z,Y,X separated by commas; e.g. --shape ${EXAMPLE_SHAPE}`,
    );
    return SYNTH_DEFAULTS.shape;
  }
  const sizes = parts.map((part) => (/^\d+$/.test(part.trim()) ? Number(part.trim()) : Number.NaN));
  if (!sizes.every((size) => size >= MIN_PHANTOM_SIZE)) {
    problems.push(
      `--shape ${text}: every size must be an integer >= ${MIN_PHANTOM_SIZE}; e.g. --shape ${EXAMPLE_SHAPE}`,
    );
    return SYNTH_DEFAULTS.shape;
  }
  const shape: Shape3 = [sizes[0]!, sizes[1]!, sizes[2]!];
  const voxels = shape[0] * shape[1] * shape[2];
  if (voxels > MAX_PHANTOM_VOXELS) {
    problems.push(
      `--shape ${text}: ${voxels} voxels is over the limit of ${MAX_PHANTOM_VOXELS}; e.g. --shape ${EXAMPLE_SHAPE}`,
    );
  }
  return shape;
}

function parseSeed(text: string, problems: string[]): bigint {
  const value = /^\d+$/.test(text) ? BigInt(text) : -1n;
  if (value < 0n || value > MAX_SEED) {
    problems.push(`--seed ${text}: must be a whole number from 0 to ${MAX_SEED}; e.g. --seed 42`);
    return SYNTH_DEFAULTS.seed;
  }
  return value;
}

/**
 * Parses the arguments after `voxelfeed synth`: `OUT [--series N] [--shape Z,Y,X] [--seed S] [--help]`.
 * Every problem is collected and thrown at once as one INVALID_ARGUMENT error, one line per problem.
 * `parseArgs` runs non-strict for that reason: strict mode stops at the first unknown option.
 */
export function parseSynthArgs(argv: readonly string[]): SynthArgs {
  const { values, tokens } = parseArgs({
    args: [...argv],
    options: {
      series: { type: 'string' },
      shape: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (values.help === true) return { outDir: '', ...SYNTH_DEFAULTS, help: true };

  const problems: string[] = [];
  // Non-strict parseArgs cannot know that an unknown option takes a value: `--crop 16,96,96` gives a
  // positional "16,96,96". When that leaves more than one positional, such a follower is the option's value.
  const followers = new Set<number>();
  tokens.forEach((token, i) => {
    if (token.kind !== 'option') return;
    if (!(OPTION_NAMES as readonly string[]).includes(token.name)) {
      problems.push(`unknown option ${token.rawName}; the options are --series, --shape, --seed and --help`);
      const next = tokens[i + 1];
      if (token.value === undefined && next?.kind === 'positional') followers.add(next.index);
    } else if (token.name !== 'help' && token.value === undefined) {
      const example = token.name === 'shape' ? EXAMPLE_SHAPE : token.name === 'series' ? '8' : '42';
      problems.push(`${token.rawName} needs a value; e.g. ${token.rawName} ${example}`);
    }
  });
  const all = tokens.flatMap((token) => (token.kind === 'positional' ? [token] : []));
  const positionals = all.length > 1 ? all.filter((token) => !followers.has(token.index)) : all;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const seriesText = text(values.series);
  const shapeText = text(values.shape);
  const seedText = text(values.seed);
  const series = seriesText === undefined ? SYNTH_DEFAULTS.series : parseSeries(seriesText, problems);
  const shape = shapeText === undefined ? SYNTH_DEFAULTS.shape : parseShape(shapeText, problems);
  const seed = seedText === undefined ? SYNTH_DEFAULTS.seed : parseSeed(seedText, problems);

  const [outDir, ...extra] = positionals.map((token) => token.value);
  if (outDir === undefined || outDir === '') {
    problems.push('missing OUT, the folder to write into; e.g. voxelfeed synth ./data/phantom');
  }
  for (const argument of extra) {
    problems.push(
      `unexpected argument ${JSON.stringify(argument)}; give one OUT folder, options start with --`,
    );
  }
  if (problems.length > 0) throw new VoxelfeedError('INVALID_ARGUMENT', problems.join('\n'));
  return { outDir: outDir!, series, shape, seed, help: false };
}
