import { createHash } from 'node:crypto';
import { readOptionFile } from './read-option-file.js';
import { VoxelfeedError } from './voxelfeed-error.js';

/**
 * A bearer token travels as the gRPC metadata value `Bearer <token>`, and metadata values are printable ASCII;
 * a space inside a token would also be ambiguous. RFC 6750's token68 alphabet is narrower, but opaque
 * secrets (hex, base64, base64url, UUIDs) all fit this rule.
 */
const TOKEN_PATTERN = /^[\x21-\x7e]+$/;

/**
 * The tokens of a token file: one per line, surrounding whitespace trimmed, blank lines and lines starting
 * with `#` skipped. Several tokens let a deployment rotate: add the new one, move every client over, remove
 * the old one. A line that cannot be a token is reported by its line number, never by its text, since the
 * text may be a secret. `option` names where the file came from (`--auth-token-file FILE`).
 */
export function parseTokenFile(text: string, option: string): string[] {
  const tokens: string[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!TOKEN_PATTERN.test(line)) {
      problems.push(`line ${i + 1} holds a space or a character outside printable ASCII`);
      return;
    }
    tokens.push(line);
  });
  if (problems.length > 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${option}: ${problems.join('; ')}; write one token per line, printable ASCII without spaces (e.g. openssl rand -hex 32)`,
    );
  }
  if (tokens.length === 0) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${option}: the file holds no token (only blank lines and # comments); add one, e.g. openssl rand -hex 32 >> FILE`,
    );
  }
  return tokens;
}

/** Reads and parses a token file; a file that cannot be read is an INVALID_ARGUMENT naming it. */
export async function readTokenFile(file: string, option: string): Promise<string[]> {
  return parseTokenFile((await readOptionFile(file, option)).toString('utf8'), `${option} ${file}`);
}

/**
 * What logs may say about a token: the first 8 hex digits of its SHA-256, enough to tell which of several
 * tokens a deployment uses, too little to help guess it (`printf %s TOKEN | sha256sum | cut -c1-8`).
 */
export function tokenFingerprint(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8);
}
