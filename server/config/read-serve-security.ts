import type { ServerCredentials } from '@grpc/grpc-js';
import { readTokenFile, tokenFingerprint } from '@voxelfeed/common/token-file.js';
import type { Logger } from '../log/logger.js';
import { readServerTls } from './read-tls-files.js';
import type { ServeConfig } from './serve-config.js';

export interface ServeSecurity {
  /** TLS credentials; null: plaintext. */
  readonly credentials: ServerCredentials | null;
  /** Accepted bearer tokens; null: calls need none. */
  readonly tokens: readonly string[] | null;
}

const LOOPBACK_HOSTS = ['127.0.0.1', '::1', 'localhost'];

/**
 * Reads the TLS files and the token file the config names, checks them (an INVALID_ARGUMENT naming the file
 * otherwise) and logs what the server will require. Logs hold the certificate's subject and names and each
 * token's fingerprint (`tokenFingerprint`), never a token.
 */
export async function readServeSecurity(
  config: Pick<ServeConfig, 'tls' | 'authTokenFile' | 'host'>,
  log: Logger,
): Promise<ServeSecurity> {
  const [tls, tokens] = await Promise.all([
    config.tls ? readServerTls(config.tls) : null,
    config.authTokenFile ? readTokenFile(config.authTokenFile, '--auth-token-file') : null,
  ]);
  if (tls !== null && config.tls) {
    const { certificate } = tls;
    log.info(
      {
        cert: config.tls.certFile,
        subject: certificate.subject,
        subjectAltName: certificate.subjectAltName ?? null,
        validTo: certificate.validTo,
        clientCa: config.tls.clientCaFile,
      },
      tls.mutual ? 'serving mutual TLS: clients must present a certificate' : 'serving TLS',
    );
    if (Date.parse(certificate.validTo) < Date.now()) {
      log.warn(
        { cert: config.tls.certFile, validTo: certificate.validTo },
        'the server certificate has expired: clients will refuse it; renew it',
      );
    }
  }
  if (tokens !== null) {
    log.info(
      { tokens: tokens.length, fingerprints: tokens.map(tokenFingerprint), file: config.authTokenFile },
      'calls need a bearer token (grpc.health.v1.Health excepted)',
    );
    if (tls === null && !LOOPBACK_HOSTS.includes(config.host)) {
      log.warn(
        { host: config.host },
        'bearer tokens travel in plaintext without TLS: anyone who sees the traffic can reuse them; add --tls-cert and --tls-key',
      );
    }
  }
  return { credentials: tls?.credentials ?? null, tokens };
}
