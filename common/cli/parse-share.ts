/**
 * Parses a share of a whole: a fraction `0.1`, `.25`, `1`, or a percentage `10%`, `12.5%`; returns the
 * fraction, or null when the text is not a number from 0 to 1 (0% to 100%).
 */
export function parseShare(text: string): number | null {
  const match = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)\s*$/.exec(text);
  if (match === null) return null;
  const value = Number(match[1]) / (match[2] === '%' ? 100 : 1);
  return value >= 0 && value <= 1 ? value : null;
}

/** "10%", "87.5%", "0.0123%": three significant digits at most, no trailing zeros. */
export function formatShare(share: number): string {
  return `${Number((share * 100).toPrecision(3))}%`;
}
