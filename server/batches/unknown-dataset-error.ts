import { VoxelfeedError } from '../errors.js';

/** The longest a requested name is shown, quotes and ellipsis included. */
const MAX_SHOWN_CHARS = 80;

/**
 * NOT_FOUND for a data set name that no served data set has, listing the served names. The name comes from
 * the client and may be up to a whole message long, with NULs and control characters: it is quoted with
 * JSON.stringify (escapes show what was sent, and nothing breaks a log line) and cut to a prefix.
 */
export function unknownDatasetError(requested: string, served: Iterable<string>): VoxelfeedError {
  return new VoxelfeedError(
    'NOT_FOUND',
    `data set ${quoteShort(requested)} is not served here; served: ${[...served].join(', ')}`,
  );
}

/**
 * `text` as a JSON string of at most MAX_SHOWN_CHARS characters: whole if it fits, else the longest prefix
 * that fits followed by "…" outside the quotes (the quotes still hold exactly what was sent, only less of it).
 */
export function quoteShort(text: string): string {
  const whole = JSON.stringify(text);
  if (whole.length <= MAX_SHOWN_CHARS) return whole;
  let prefix = '';
  // By code point, so a surrogate pair is never split; an escape such as \u0000 is kept whole or left out.
  // Each step adds at least one character, so this loop runs fewer than MAX_SHOWN_CHARS times.
  for (const char of text) {
    if (JSON.stringify(prefix + char).length + 1 > MAX_SHOWN_CHARS) break;
    prefix += char;
  }
  return `${JSON.stringify(prefix)}…`;
}
