/** Three sizes along NRRD axes 0, 1, 2 (Z,Y,X): a crop or a volume shape. */
export type Triple = readonly [number, number, number];

/**
 * Parses `16,96,96` (spaces around the numbers allowed): three integers of decimal digits, each at least
 * `min`; returns the triple or a problem naming what is wrong (without the option it came from).
 */
export function parseTriple(text: string, min: number): Triple | { readonly problem: string } {
  const parts = text.split(',');
  if (parts.length !== 3) return { problem: 'give three sizes Z,Y,X separated by commas' };
  const sizes = parts.map((part) => (/^\s*\d+\s*$/.test(part) ? Number(part) : Number.NaN));
  if (!sizes.every((size) => Number.isSafeInteger(size) && size >= min)) {
    return { problem: `every size must be an integer >= ${min}` };
  }
  return [sizes[0]!, sizes[1]!, sizes[2]!];
}

export function isTriple(value: Triple | { readonly problem: string }): value is Triple {
  return Array.isArray(value);
}
