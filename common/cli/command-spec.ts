import type { OptionKind } from './option-kind.js';

/**
 * One row of a command's option table: the flag is the row's key (`port` for `--port`). `R` is the type of
 * the value the command receives: the kind's value, or null where there is no default.
 */
export interface OptionSpec<R, V = unknown> {
  readonly kind: OptionKind<V>;
  /** The value when neither the flag nor its variable is given. */
  readonly default: R;
  /** How --help shows the default where the kind's format would not say it (e.g. `256MiB, or ...`). */
  readonly defaultText?: string;
  /** The variable read when the flag is absent: `VOXELFEED_*`, or a name users already set (`MASTER_ADDR`). */
  readonly variable?: string;
  /** An older variable still read (after `variable`), with a line on stderr asking to move to the new one. */
  readonly deprecatedVariable?: string;
  /** A valid value for messages; default: the kind's example. */
  readonly example?: string;
  /**
   * The --help line (wrapped to the description column). `{default}` is replaced by `default X`; without
   * it, ` (default X)` is appended when there is a default to show.
   */
  readonly help: string;
  /** A one-letter alias (`-v`). */
  readonly short?: string;
  /** Taken several times (`--serve-arg=A --serve-arg=B`); the value is the list, in order. */
  readonly repeatable?: boolean;
}

/** A command's option table: flag name (without --) to its row. */
// biome-ignore lint/suspicious/noExplicitAny: a table holds rows of every kind; each row keeps its own types.
export type OptionTable = Readonly<Record<string, OptionSpec<unknown, any>>>;

/** The value of every option of a table, typed by its row. */
export type OptionValues<T extends OptionTable> = {
  readonly [K in keyof T]: T[K] extends OptionSpec<infer R, infer _V> ? R : never;
};

type RowFields = Omit<OptionSpec<unknown>, 'kind' | 'default' | 'repeatable'>;

/** A table row whose value is the kind's, or the default given (null: absent). */
export function option<V, const D extends V | null>(
  row: RowFields & { readonly kind: OptionKind<V>; readonly default: D },
): OptionSpec<V | D, V> {
  return row as OptionSpec<V | D, V>;
}

/** A table row taken any number of times; its value is every text given, in order, each read by the kind. */
export function repeatedOption<V>(
  row: Omit<RowFields, 'variable' | 'deprecatedVariable'> & { readonly kind: OptionKind<V> },
): OptionSpec<readonly V[], V> {
  return { ...row, default: [], repeatable: true };
}

/** The one argument a command takes besides options (synth's OUT, index's PATH). */
export interface PositionalSpec {
  /** `OUT`. */
  readonly name: string;
  /** `the folder to write into`. */
  readonly help: string;
  /** `./data/phantom`. */
  readonly example: string;
}

export interface CommandSpec<T extends OptionTable> {
  /** How a person runs it, for messages: `voxelfeed serve`, `npm run load --`. */
  readonly name: string;
  /** The first line of --help, `Usage: ...`. */
  readonly usage: string;
  /** Paragraphs between the usage line and the options. */
  readonly summary: string;
  readonly options: T;
  /** A command that takes one argument besides options; absent: options only. */
  readonly positional?: PositionalSpec;
  /** After "unexpected argument X; <name> takes options only": a likely fix, e.g. `e.g. --data X`. */
  readonly strayHint?: (argument: string) => string;
  /** Paragraphs after the options. */
  readonly notes?: string;
}

/** The table of a command, typed, checked against the spec's shape. */
export function command<const T extends OptionTable>(spec: CommandSpec<T>): CommandSpec<T> {
  return spec;
}
