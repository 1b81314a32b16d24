import { parseArgs } from 'node:util';
import { UsageError } from '../usage-error.js';
import type { CommandSpec, OptionSpec, OptionTable, OptionValues } from './command-spec.js';
import { isProblem } from './option-kind.js';
import { isFlagKind } from './option-kinds.js';

/** A value as given, and where it came from, so a message names what the user actually wrote. */
export interface Setting {
  readonly text: string;
  /** `--port nope`, `VOXELFEED_PORT=nope` or `--profile burst (--streams 32)`. */
  readonly shown: string;
  readonly from: 'flag' | 'variable' | 'preset';
}

export interface CommandLine<T extends OptionTable> {
  readonly values: OptionValues<T>;
  /** Where each option's value came from; null: its default. */
  readonly settings: { readonly [K in keyof T]: Setting | null };
  /** The command's one argument (synth's OUT); null when it takes none or it is missing (a problem then). */
  readonly positional: string | null;
  /** Every problem found; the command adds those between options, then calls `throwIfProblems`. */
  readonly problems: string[];
  /** Lines for stderr that do not stop the command (an old variable still read). */
  readonly warnings: string[];
  /** How a message names an option's value: `--rank 4`, `VOXELFEED_RANK=4`, or `--rank 0 (the default)`. */
  shown(name: keyof T & string): string;
}

/** Defaults of a named scenario (soak's `--profile burst`): below flags and variables, above the table's. */
export interface Presets {
  /** `--profile burst`. */
  readonly label: string;
  readonly texts: Readonly<Record<string, string>>;
}

type Token = NonNullable<ReturnType<typeof parseArgs>['tokens']>[number];

/**
 * Reads a command line against the command's table: flags, then `VOXELFEED_*` variables, then presets,
 * then defaults. Nothing stops at the first problem: unknown options, missing values, flags given a value,
 * stray arguments and every bad value are collected, each naming where it came from, its limit and a fix.
 * `parseArgs` runs non-strict for that reason (strict mode throws at the first unknown option), so there
 * is no ERR_PARSE_ARGS to catch. Returns 'help' for -h/--help, whatever else is wrong.
 */
export function parseCommandLine<T extends OptionTable>(
  spec: CommandSpec<T>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  presets?: Presets,
): CommandLine<T> | 'help' {
  const table: Readonly<Record<string, OptionSpec<unknown>>> = spec.options;
  const { tokens } = parseArgs({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: {
      ...Object.fromEntries(
        Object.entries(table).map(([name, row]) => [
          name,
          {
            type: isFlagKind(row.kind) ? ('boolean' as const) : ('string' as const),
            ...(row.short === undefined ? {} : { short: row.short }),
          },
        ]),
      ),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) return 'help';

  const problems: string[] = [];
  const warnings: string[] = [];
  const given = new Map<string, string[]>();
  const followers = new Set<number>();
  tokens.forEach((token, i) => {
    if (token.kind !== 'option') return;
    const row = Object.hasOwn(table, token.name) ? table[token.name] : undefined;
    if (row === undefined) {
      problems.push(unknownOptionProblem(spec, token.rawName));
      // Non-strict parseArgs cannot know that an unknown option takes a value: in `--bogus 3`, "3" is its value.
      const next = tokens[i + 1];
      if (token.value === undefined && next?.kind === 'positional') followers.add(next.index);
      return;
    }
    if (isFlagKind(row.kind)) {
      if (token.value === undefined) given.set(token.name, ['']);
      else {
        problems.push(
          `${token.rawName}=${token.value}: ${token.rawName} takes no value; give ${token.rawName} alone, or leave it out`,
        );
      }
      return;
    }
    // `--port --host x` would take "--host" as the port.
    const swallowed = token.inlineValue === false && token.value?.startsWith('--') === true;
    if (token.value === undefined || token.value === '' || swallowed) {
      problems.push(
        `${token.rawName} needs a value; e.g. ${token.rawName} ${row.example ?? row.kind.example}`,
      );
      given.set(token.name, []);
      return;
    }
    const texts = given.get(token.name) ?? [];
    given.set(token.name, row.repeatable === true ? [...texts, token.value] : [token.value]);
  });

  const values: Record<string, unknown> = {};
  const settings: Record<string, Setting | null> = {};
  for (const [name, row] of Object.entries(table)) {
    const texts = given.get(name);
    if (texts !== undefined && texts.length === 0) {
      // Given without a value: reported above; the default stands so later checks do not report it again.
      values[name] = row.default;
      settings[name] = null;
      continue;
    }
    if (row.repeatable === true) {
      values[name] = (texts ?? []).flatMap((text) => {
        const parsed = row.kind.parse(text);
        if (!isProblem(parsed)) return [parsed.value];
        problems.push(`--${name}=${text}: ${parsed.problem}`);
        return [];
      });
      settings[name] =
        texts === undefined ? null : { text: texts.join(' '), shown: `--${name}`, from: 'flag' };
      continue;
    }
    const setting = settingOf(name, row, texts?.[0], env, presets, warnings, spec.name);
    settings[name] = setting;
    if (setting === null) {
      values[name] = row.default;
      continue;
    }
    if (isFlagKind(row.kind) && setting.from === 'flag') {
      values[name] = true;
      continue;
    }
    const parsed = row.kind.parse(setting.text);
    if (isProblem(parsed)) {
      const example = row.example ?? row.kind.example;
      const fix = isFlagKind(row.kind)
        ? ''
        : `; e.g. ${setting.from === 'variable' ? `${row.variable}=${example}` : `--${name} ${example}`}`;
      problems.push(`${setting.shown}: ${parsed.problem}${fix}`);
      values[name] = row.default;
    } else {
      values[name] = parsed.value;
    }
  }

  const positional = positionalOf(spec, tokens, followers, problems);
  return {
    values: values as OptionValues<T>,
    settings: settings as { readonly [K in keyof T]: Setting | null },
    positional,
    problems,
    warnings,
    shown: (name) => {
      const setting = settings[name];
      if (setting) return setting.shown;
      const row = table[name]!;
      return `--${name} ${row.defaultText ?? row.kind.format(row.default)} (the default)`;
    },
  };
}

/** The bad-options error of a command, when there is any problem: every problem on its own line. */
export function throwIfProblems(
  spec: Pick<CommandSpec<OptionTable>, 'name'>,
  problems: readonly string[],
): void {
  if (problems.length > 0) {
    throw new UsageError(`bad options:\n  ${problems.join('\n  ')}\nRun ${spec.name} --help for usage.`);
  }
}

function settingOf(
  name: string,
  row: OptionSpec<unknown>,
  flagText: string | undefined,
  env: NodeJS.ProcessEnv,
  presets: Presets | undefined,
  warnings: string[],
  command: string,
): Setting | null {
  if (flagText !== undefined)
    return { text: flagText, shown: `--${name} ${flagText}`.trimEnd(), from: 'flag' };
  const variable = row.variable === undefined ? undefined : env[row.variable];
  if (row.variable !== undefined && variable !== undefined && variable !== '') {
    return { text: variable, shown: `${row.variable}=${variable}`, from: 'variable' };
  }
  const old = row.deprecatedVariable === undefined ? undefined : env[row.deprecatedVariable];
  if (row.deprecatedVariable !== undefined && old !== undefined && old !== '') {
    warnings.push(
      `${row.deprecatedVariable}=${old} is read as ${row.variable ?? `--${name}`} by ${command}; the old name will stop working: set ${row.variable ?? `--${name}`} instead`,
    );
    return { text: old, shown: `${row.deprecatedVariable}=${old}`, from: 'variable' };
  }
  const preset = presets?.texts[name];
  if (presets !== undefined && preset !== undefined) {
    return { text: preset, shown: `${presets.label} (--${name} ${preset})`, from: 'preset' };
  }
  return null;
}

function unknownOptionProblem(spec: CommandSpec<OptionTable>, rawName: string): string {
  const names = [...Object.keys(spec.options), 'help'].map((name) => `--${name}`);
  if (names.length <= 5) {
    return `unknown option ${rawName}; the options are ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  }
  return `unknown option ${rawName}; run ${spec.name} --help for the options`;
}

function positionalOf(
  spec: CommandSpec<OptionTable>,
  tokens: readonly Token[],
  followers: ReadonlySet<number>,
  problems: string[],
): string | null {
  const all = tokens.flatMap((token) => (token.kind === 'positional' ? [token] : []));
  const allowed = spec.positional === undefined ? 0 : 1;
  // A follower of an unknown option is its value only when it leaves more arguments than the command takes.
  const positionals = all.length > allowed ? all.filter((token) => !followers.has(token.index)) : all;
  const [first, ...extra] = positionals.map((token) => token.value);
  if (spec.positional === undefined) {
    for (const argument of [first, ...extra].filter((value) => value !== undefined)) {
      const hint = spec.strayHint?.(argument);
      problems.push(
        `unexpected argument ${JSON.stringify(argument)}; ${spec.name} takes options only${hint ? `, ${hint}` : ''}`,
      );
    }
    return null;
  }
  const { name, help, example } = spec.positional;
  if (first === undefined || first === '') {
    problems.push(`missing ${name}, ${help}; e.g. ${spec.name} ${example}`);
    return null;
  }
  for (const argument of extra) {
    problems.push(
      `unexpected argument ${JSON.stringify(argument)}; ${spec.name} takes one ${name} (${help}), options start with --`,
    );
  }
  return first;
}
