import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import { decimal, flag, text } from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';

/** What `voxelfeed evaluate` was asked to do. */
export interface EvaluateOptions {
  /** The data set: a folder in the LUNA16 preprocessed layout, or a manifest. */
  readonly data: string;
  /** The folder of `<uid>_pred.nrrd` files. */
  readonly pred: string;
  readonly threshold: number;
  /** The series to evaluate; null: every series with a prediction file. */
  readonly series: readonly string[] | null;
  readonly frocPng: string | null;
  readonly json: boolean;
}

export const DEFAULT_THRESHOLD = 0.5;

/** `voxelfeed evaluate`: its options, defaults and help lines. */
export const EVALUATE_COMMAND = command({
  name: 'voxelfeed evaluate',
  usage:
    'Usage: voxelfeed evaluate --data PATH --pred DIR [--threshold P] [--series UID,...] [--froc-png FILE] [--json]',
  summary: `Scores predicted masks (<uid>_pred.nrrd, as voxelfeed infer writes them) against a data set's masks and
nodule boxes: Dice per series; nodules found and false positives from the 26-connected components of the
thresholded prediction (a nodule is found when a component's centre lies within its radius, in millimetres
when the image header gives a spacing, else in voxels); and the LUNA16 FROC: sensitivity at 1/8, 1/4, 1/2, 1,
2, 4 and 8 false positives per scan, components scored by their highest probability, and the mean of the
seven. Prints a table, then one JSON line (--json: the JSON line only).`,
  options: {
    data: option({
      kind: text({ placeholder: 'PATH', example: './data/luna16' }),
      default: null,
      help: 'the data set, as voxelfeed serve --data takes it: a folder in the LUNA16 preprocessed layout, or a manifest (.csv or .json) (required)',
    }),
    pred: option({
      kind: text({ placeholder: 'DIR', example: './predictions' }),
      default: null,
      help: 'the folder of <uid>_pred.nrrd files (required)',
    }),
    threshold: option({
      kind: decimal({ min: 0, max: 1, aboveMin: true, placeholder: 'P', example: '0.5' }),
      default: DEFAULT_THRESHOLD,
      help: 'probabilities at or above this are foreground, for Dice and components; a mask prediction ignores it',
    }),
    series: option({
      kind: text({ placeholder: 'UID,...', example: '1.3.6.1.4.1.14519.5.2.1.6279.6001.100' }),
      default: null,
      help: 'evaluate only these series, separated by commas; default: every series of the data set that has a prediction file',
    }),
    'froc-png': option({
      kind: text({ placeholder: 'FILE', example: './froc.png' }),
      default: null,
      help: 'also draw the FROC curve into this PNG: sensitivity against false positives per scan, log scale from 1/8 to 8, a dot at each of the seven rates',
    }),
    json: option({ kind: flag(), default: false, help: 'print the JSON line only, without the table' }),
  },
  strayHint: (argument) => `e.g. --data ${argument} or --pred ${argument}`,
  notes: `Exit status: 0 when every series asked for was evaluated, 1 when a prediction is missing for a series
named with --series, cannot be read or has the wrong shape (the others are still evaluated and printed), or
nothing could be evaluated; 2 for a bad command line.`,
});

export const EVALUATE_HELP = formatHelp(EVALUATE_COMMAND);

/** The command line of `voxelfeed evaluate`; every problem at once in one UsageError. */
export function parseEvaluateOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): EvaluateOptions | 'help' {
  const line = parseCommandLine(EVALUATE_COMMAND, argv, env);
  if (line === 'help') return 'help';
  const { values } = line;
  const problems = [...line.problems];
  if (values.data === null && line.settings.data === null) {
    problems.push('missing --data PATH, the data set the predictions are of; e.g. --data ./data/luna16');
  }
  if (values.pred === null && line.settings.pred === null) {
    problems.push('missing --pred DIR, the folder of <uid>_pred.nrrd files; e.g. --pred ./predictions');
  }
  const series =
    values.series === null
      ? null
      : values.series
          .split(',')
          .map((uid) => uid.trim())
          .filter((uid) => uid !== '');
  if (series !== null && series.length === 0) {
    problems.push(`${line.shown('series')}: names no series; give uids separated by commas`);
  }
  throwIfProblems(EVALUATE_COMMAND, problems);
  return {
    data: values.data!,
    pred: values.pred!,
    threshold: values.threshold,
    series: series === null ? null : [...new Set(series)],
    frocPng: values['froc-png'],
    json: values.json,
  };
}
