import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import { bigInteger, integer, triple } from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';
import type { Shape3 } from '../sampling/types.js';
import {
  MAX_NODULES_PER_SERIES,
  MAX_PHANTOM_LABELS,
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
  /** Mask labels: nodule k of a series gets 1 + (k mod labels). */
  readonly labels: number;
  /** `--help` or `-h` was given: print SYNTH_HELP and nothing else is checked (outDir is then ''). */
  readonly help: boolean;
}

export const SYNTH_DEFAULTS = { series: 8, shape: [64, 128, 128] as Shape3, seed: 0n, labels: 1 } as const;

const MAX_SEED = 2n ** 64n - 1n;

/** `voxelfeed synth`: its options, defaults and help lines. */
export const SYNTH_COMMAND = command({
  name: 'voxelfeed synth',
  usage: 'Usage: voxelfeed synth OUT [--series N] [--shape Z,Y,X] [--seed S] [--labels N]',
  summary: `Writes a LUNA16-like phantom data set into the folder OUT (created if missing), with no download:
per series a body, two lungs, vessels and 0 to ${MAX_NODULES_PER_SERIES} spherical nodules, plus noise. The same options
give the same files, byte for byte.`,
  positional: { name: 'OUT', help: 'the folder to write into', example: './data/phantom' },
  options: {
    series: option({
      kind: integer({ min: 1, max: MAX_PHANTOM_SERIES, example: '8' }),
      default: SYNTH_DEFAULTS.series,
      help: `how many series, 1..${MAX_PHANTOM_SERIES}`,
    }),
    shape: option({
      kind: triple({ min: MIN_PHANTOM_SIZE, example: '128,192,192' }),
      default: SYNTH_DEFAULTS.shape,
      help: `volume sizes along NRRD axes 0, 1, 2, each an integer >= ${MIN_PHANTOM_SIZE} ({default}); nodules shrink to fit small shapes`,
    }),
    seed: option({
      kind: bigInteger({ max: MAX_SEED, example: '42' }),
      default: SYNTH_DEFAULTS.seed,
      help: `a whole number 0..${MAX_SEED}`,
    }),
    labels: option({
      kind: integer({ min: 1, max: MAX_PHANTOM_LABELS, example: '3' }),
      default: SYNTH_DEFAULTS.labels,
      help: `mask labels 1..N: nodule k of a series is labelled 1 + (k mod N), for multi-class sampling (sampling.label_ratios, keep_labels); 1..${MAX_PHANTOM_LABELS}`,
    }),
  },
  notes: `Files written in OUT, per series (uid like 1.3.6.1.4.1.14519.5.2.1.6279.6001.<digits>):
  <uid>_clean.nrrd    uint8 CT image (lung window, 0..255), gzip NRRD
  <uid>_mask.nrrd     uint8 nodule mask, 1 on nodule voxels (1..N with --labels N), same sizes
  <uid>_bboxes.npy    float32 (N, 4) rows [c0, c1, c2, d]: nodule centre in voxels along
                      NRRD axes 0, 1, 2 and its diameter in voxels; (0, 4) for no nodule
and ${PHANTOM_MANIFEST_NAME} (options, file list, nodules). One series in ${NEGATIVE_SERIES_PERIOD} has no nodule.

Example:
  voxelfeed synth ./data/phantom --series 64 --shape 128,192,192 --seed 7
`,
});

export const SYNTH_HELP = formatHelp(SYNTH_COMMAND);

/**
 * Parses the arguments after `voxelfeed synth`: `OUT [--series N] [--shape Z,Y,X] [--seed S] [--help]`.
 * Every problem is reported at once in one UsageError (INVALID_ARGUMENT), one line per problem.
 */
export function parseSynthArgs(argv: readonly string[]): SynthArgs {
  const line = parseCommandLine(SYNTH_COMMAND, argv, {});
  if (line === 'help') return { outDir: '', ...SYNTH_DEFAULTS, help: true };
  const { values, problems } = line;
  const voxels = values.shape[0] * values.shape[1] * values.shape[2];
  if (voxels > MAX_PHANTOM_VOXELS) {
    problems.push(
      `${line.shown('shape')}: ${voxels} voxels is over the limit of ${MAX_PHANTOM_VOXELS}; e.g. --shape 128,192,192`,
    );
  }
  throwIfProblems(SYNTH_COMMAND, problems);
  return {
    outDir: line.positional!,
    series: values.series,
    shape: values.shape,
    seed: values.seed,
    labels: values.labels,
    help: false,
  };
}
