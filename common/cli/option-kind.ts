/** What reading one option's text gives: its value, or a problem saying what is wrong with the text. */
export type KindResult<V> = { readonly value: V } | { readonly problem: string };

/**
 * How an option's text is read, checked and shown: one kind per sort of value (integer, byte size, Z,Y,X
 * triple, address...), so every command reads a sort of value the same way and words its problems alike.
 * A problem names the limit but not the option; the command-line layer prefixes where the text came from
 * (`--rank 4` or `VOXELFEED_RANK=4`) and appends an example.
 */
export interface OptionKind<V> {
  /** In --help and usage lines: `N`, `SIZE`, `Z,Y,X`. Empty for a flag (an option without a value). */
  readonly placeholder: string;
  /** A valid text, for the example of a message when the option gives none. */
  readonly example: string;
  parse(text: string): KindResult<V>;
  /** A value as --help shows it (a default). */
  format(value: V): string;
}

export function isProblem<V>(result: KindResult<V>): result is { readonly problem: string } {
  return 'problem' in result;
}
