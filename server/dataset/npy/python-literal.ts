/**
 * A parser for the small subset of Python literal syntax that `.npy` headers use (numpy writes them with
 * `repr` and reads them with `ast.literal_eval`): dicts, tuples, lists, strings, integers, floats, True,
 * False and None. It evaluates nothing: anything else is a syntax error.
 */
export type PythonValue =
  | string
  | number
  | boolean
  | null
  | { readonly kind: 'tuple' | 'list'; readonly items: readonly PythonValue[] }
  | { readonly kind: 'dict'; readonly entries: ReadonlyMap<string | number, PythonValue> };

/** Parses `text` as one literal; throws an Error (wrapped by the caller) naming the offset of a problem. */
export function parsePythonLiteral(text: string): PythonValue {
  const parser = new LiteralParser(text);
  const value = parser.value();
  parser.skipSpace();
  if (!parser.atEnd()) parser.fail('unexpected text after the value');
  return value;
}

class LiteralParser {
  private at = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.at >= this.text.length;
  }

  fail(problem: string): never {
    throw new Error(`${problem} at offset ${this.at} of ${JSON.stringify(this.text.slice(0, 120))}`);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.at]!)) this.at++;
  }

  value(): PythonValue {
    this.skipSpace();
    const char = this.text[this.at];
    if (char === '{') return this.dict();
    if (char === '(') return { kind: 'tuple', items: this.sequence(')') };
    if (char === '[') return { kind: 'list', items: this.sequence(']') };
    if (char === "'" || char === '"') return this.string();
    if (char !== undefined && /[-+0-9.]/.test(char)) return this.number();
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.at))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.at += word.length;
      return word === 'None' ? null : word === 'True';
    }
    return this.fail(word === undefined ? 'expected a value' : `"${word}" is not a literal`);
  }

  private dict(): PythonValue {
    this.at++; // {
    const entries = new Map<string | number, PythonValue>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === '}') break;
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number')
        this.fail('a dict key must be a string or a number');
      this.expect(':');
      entries.set(key, this.value());
      if (!this.separator('}')) break;
    }
    this.expect('}');
    return { kind: 'dict', entries };
  }

  private sequence(close: ')' | ']'): PythonValue[] {
    this.at++; // ( or [
    const items: PythonValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] === close) break;
      items.push(this.value());
      if (!this.separator(close)) break;
    }
    this.expect(close);
    return items;
  }

  /** Consumes a comma and says whether more may follow; false when the closing bracket comes next. */
  private separator(close: string): boolean {
    this.skipSpace();
    if (this.text[this.at] === ',') {
      this.at++;
      return true;
    }
    if (this.text[this.at] !== close) this.fail(`expected "," or "${close}"`);
    return false;
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.at] !== char) this.fail(`expected "${char}"`);
    this.at++;
  }

  private string(): string {
    const quote = this.text[this.at++]!;
    let out = '';
    for (;;) {
      const char = this.text[this.at++];
      if (char === undefined) this.fail('unterminated string');
      if (char === quote) return out;
      if (char !== '\\') {
        out += char;
        continue;
      }
      const escaped = this.text[this.at++];
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        '0': '\0',
        '\\': '\\',
        "'": "'",
        '"': '"',
      };
      if (escaped !== undefined && escaped in simple) {
        out += simple[escaped];
      } else if (escaped === 'x' || escaped === 'u') {
        const digits = escaped === 'x' ? 2 : 4;
        const hex = this.text.slice(this.at, this.at + digits);
        if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail(`bad \\${escaped} escape`);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        this.at += digits;
      } else {
        this.fail(`unsupported escape \\${escaped ?? ''}`);
      }
    }
  }

  private number(): number {
    const match = /^[-+]?(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?)L?/i.exec(this.text.slice(this.at));
    if (match === null) this.fail('expected a number');
    this.at += match[0].length;
    return Number(match[0].replace(/L$/i, ''));
  }
}
