import { command, option } from '@voxelfeed/common/cli/command-spec.js';
import { formatHelp } from '@voxelfeed/common/cli/format-help.js';
import { flag, share, triple } from '@voxelfeed/common/cli/option-kinds.js';
import { parseCommandLine, throwIfProblems } from '@voxelfeed/common/cli/parse-command-line.js';
import { DEFAULT_MAX_SKIPPED_SHARE, MAX_SKIPPED_VARIABLE } from '../dataset/catalog/skipped-share.js';
import type { Shape3 } from '../sampling/types.js';

/** What `voxelfeed index` was asked to do. */
export interface IndexOptions {
  /** A folder in the LUNA16 preprocessed layout, or a manifest. */
  readonly source: string;
  readonly strict: boolean;
  readonly maxSkipped: number;
  readonly check: boolean;
  /** Warn about nodules larger than this crop; null: no such check. */
  readonly crop: Shape3 | null;
  readonly json: boolean;
}

/** `voxelfeed index`: its options, defaults and help lines. */
export const INDEX_COMMAND = command({
  name: 'voxelfeed index',
  usage: 'Usage: voxelfeed index PATH [--strict] [--max-skipped SHARE] [--check] [--crop Z,Y,X] [--json]',
  summary: `Indexes a data set the way voxelfeed serve does (NRRD headers and box files only, no voxel data) and prints
its summary: series, nodules, decoded size, fingerprint, and every series that would be skipped, with why.
Warnings and the reasons for a failing exit status are printed on stderr as well.`,
  positional: {
    name: 'PATH',
    help: 'a folder in the LUNA16 preprocessed layout, or a manifest (.csv or .json)',
    example: './data/luna16',
  },
  options: {
    strict: option({ kind: flag(), default: false, help: 'exit with status 1 if any series is bad' }),
    'max-skipped': option({
      kind: share({ example: '0.1' }),
      default: DEFAULT_MAX_SKIPPED_SHARE,
      variable: MAX_SKIPPED_VARIABLE,
      help: 'exit with status 1 if more than this share of the series is skipped, as serve then refuses to start: e.g. 0.1 or 10% ({default}; 1: any share)',
    }),
    check: option({
      kind: flag(),
      default: false,
      help: 'also read every mask once and check each box centre against it (a nodule voxel within one voxel); list the series whose boxes miss, with the likely cause (axes swapped, millimetres instead of voxels), and exit with status 1 if there is any',
    }),
    crop: option({
      kind: triple({ min: 1, example: '16,96,96' }),
      default: null,
      help: 'warn about nodules larger than this crop on an axis: no such crop holds them whole',
    }),
    json: option({ kind: flag(), default: false, help: 'print one JSON object instead of text' }),
  },
  notes: `Exit status: 0 if the data set can be served as checked, 1 if not (the reason is on stderr), 2 for a bad
command line.`,
});

export const INDEX_HELP = formatHelp(INDEX_COMMAND);

/** The command line of `voxelfeed index`; every problem at once in one UsageError. */
export function parseIndexOptions(argv: readonly string[], env: NodeJS.ProcessEnv): IndexOptions | 'help' {
  const line = parseCommandLine(INDEX_COMMAND, argv, env);
  if (line === 'help') return 'help';
  throwIfProblems(INDEX_COMMAND, line.problems);
  const { values } = line;
  return {
    source: line.positional!,
    strict: values.strict,
    maxSkipped: values['max-skipped'],
    check: values.check,
    crop: values.crop,
    json: values.json,
  };
}
