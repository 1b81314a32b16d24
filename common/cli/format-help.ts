import type { CommandSpec, OptionSpec, OptionTable } from './command-spec.js';
import { isFlagKind } from './option-kinds.js';

/** Labels longer than this go on a line of their own, their description below. */
const LABEL_WIDTH = 22;
/** The description column's width when a variable column follows it, and when none does. */
const DESCRIPTION_WITH_VARIABLES = 66;
const DESCRIPTION_ALONE = 86;

/**
 * The --help text of a command, made from its table: the usage line, the summary, one row per option (flag
 * and placeholder, the help line with its default, the variable in a column of its own) and the notes.
 */
export function formatHelp<T extends OptionTable>(spec: CommandSpec<T>): string {
  const rows = Object.entries(spec.options as Readonly<Record<string, OptionSpec<unknown>>>);
  const withVariables = rows.some(([, row]) => row.variable !== undefined);
  const allWithVariables = rows.every(([, row]) => row.variable !== undefined);
  const width = withVariables ? DESCRIPTION_WITH_VARIABLES : DESCRIPTION_ALONE;
  const lines: string[] = [];
  if (spec.positional !== undefined) {
    lines.push(...helpRow(spec.positional.name, spec.positional.help, undefined, width));
  }
  for (const [name, row] of rows) {
    const placeholder = row.kind.placeholder;
    const label = `${row.short === undefined ? '' : `-${row.short}, `}--${name}${
      row.repeatable === true ? `=${placeholder}` : placeholder === '' ? '' : ` ${placeholder}`
    }`;
    const variable =
      row.variable === undefined ? undefined : isFlagKind(row.kind) ? `${row.variable}=1` : row.variable;
    lines.push(...helpRow(label, describe(row), variable, width));
  }
  lines.push(...helpRow('-h, --help', 'show this text', undefined, width));
  const heading = !withVariables
    ? 'Options:'
    : allWithVariables
      ? 'Options (each also read from the environment variable shown; a flag wins over its variable):'
      : 'Options (those with a variable shown also read it from the environment; a flag wins over its variable):';
  return [
    spec.usage,
    '',
    spec.summary,
    '',
    heading,
    ...lines,
    ...(spec.notes === undefined ? [] : ['', spec.notes]),
  ].join('\n');
}

/** The help line with its default: `{default}` replaced, or ` (default X)` appended when there is one. */
function describe(row: OptionSpec<unknown>): string {
  const shown =
    row.defaultText ??
    (row.default === null || row.default === false || row.repeatable === true
      ? undefined
      : row.kind.format(row.default));
  if (row.help.includes('{default}')) return row.help.replaceAll('{default}', `default ${shown ?? 'none'}`);
  return shown === undefined ? row.help : `${row.help} (default ${shown})`;
}

function helpRow(label: string, text: string, variable: string | undefined, width: number): string[] {
  const wrapped = wrap(text, width);
  const first = variable === undefined ? wrapped[0]! : `${wrapped[0]!.padEnd(width)}  ${variable}`;
  const indent = ' '.repeat(2 + LABEL_WIDTH + 1);
  if (label.length > LABEL_WIDTH) {
    return [`  ${label}`, `${indent}${first}`, ...wrapped.slice(1).map((line) => `${indent}${line}`)];
  }
  return [`  ${label.padEnd(LABEL_WIDTH)} ${first}`, ...wrapped.slice(1).map((line) => `${indent}${line}`)];
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line = `${line} ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  lines.push(line);
  return lines;
}
