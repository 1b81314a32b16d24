const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['', '0', 'false', 'no', 'off'];

/**
 * A yes/no variable (`VOXELFEED_STRICT=1`): a true word is true, a false word false; anything else is a
 * problem (the words to use), as a typo must not silently turn a safety switch off.
 */
export function parseEnvFlag(text: string): { readonly value: boolean } | { readonly problem: string } {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return { value: true };
  if (FALSE_WORDS.includes(word)) return { value: false };
  return { problem: 'use 1 or 0 (true or false)' };
}
