import { type OptionTable, option } from '@voxelfeed/common/cli/command-spec.js';
import { flag, text } from '@voxelfeed/common/cli/option-kinds.js';
import type { CommandLine } from '@voxelfeed/common/cli/parse-command-line.js';

/** TLS to the server: `caFile` null trusts the system's CAs; a client certificate (both or neither) for mTLS. */
export interface FeedTlsFiles {
  readonly caFile: string | null;
  readonly certFile: string | null;
  readonly keyFile: string | null;
}

const file = (example: string) => text({ placeholder: 'FILE', example });

/**
 * The rows every command that dials a voxelfeed server shares (train, infer, preview, stats): TLS and the
 * bearer token, with the same flags and variables, so one set of `VOXELFEED_TLS_*` variables serves them all.
 * Spread into a command's table; `feedTlsFiles` reads them back.
 */
export const FEED_SECURITY_OPTIONS = {
  tls: option({
    kind: flag(),
    default: false,
    variable: 'VOXELFEED_TLS',
    help: "TLS, trusting the system's CAs",
  }),
  'tls-ca': option({
    kind: file('/etc/voxelfeed/tls/ca.crt'),
    default: null,
    variable: 'VOXELFEED_TLS_CA',
    help: "TLS, trusting this PEM CA (the server's issuer)",
  }),
  'tls-cert': option({
    kind: file('/etc/voxelfeed/tls/client.crt'),
    default: null,
    variable: 'VOXELFEED_TLS_CERT',
    help: "mutual TLS: this client's PEM certificate",
  }),
  'tls-key': option({
    kind: file('/etc/voxelfeed/tls/client.key'),
    default: null,
    variable: 'VOXELFEED_TLS_KEY',
    help: 'mutual TLS: its unencrypted PEM private key',
  }),
  'auth-token-file': option({
    kind: file('/etc/voxelfeed/token'),
    default: null,
    variable: 'VOXELFEED_AUTH_TOKEN_FILE',
    help: 'send the file\'s first token (# lines skipped) as "authorization: Bearer <token>"',
  }),
} satisfies OptionTable;

/**
 * TLS is on with --tls or any TLS file; a client certificate needs its key and the reverse (a problem added
 * to `problems`, naming where each value came from).
 */
export function feedTlsFiles(
  line: CommandLine<typeof FEED_SECURITY_OPTIONS>,
  problems: string[],
): FeedTlsFiles | null {
  const caFile = line.values['tls-ca'];
  const certFile = line.values['tls-cert'];
  const keyFile = line.values['tls-key'];
  if (certFile !== null && keyFile === null) {
    problems.push(`${line.shown('tls-cert')} needs --tls-key FILE (VOXELFEED_TLS_KEY), its private key`);
  }
  if (keyFile !== null && certFile === null) {
    problems.push(
      `${line.shown('tls-key')} needs --tls-cert FILE (VOXELFEED_TLS_CERT), the certificate of that key`,
    );
  }
  if (!line.values.tls && caFile === null && certFile === null && keyFile === null) return null;
  return { caFile, certFile, keyFile };
}
