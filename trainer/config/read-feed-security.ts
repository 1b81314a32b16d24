import type { FeedClientOptions } from '@voxelfeed/client';
import { assertKeyOfCertificate, readCertificates, readPrivateKey } from '@voxelfeed/common/pem-files.js';
import { readTokenFile, tokenFingerprint } from '@voxelfeed/common/token-file.js';
import type { TrainConfig } from './train-config.js';

export interface FeedSecurity {
  /** The feed client's `tls` and `token` options (absent: plaintext, no token). */
  readonly options: Pick<FeedClientOptions, 'tls' | 'token'>;
  /** For the start-up log: what the trainer will present, never the token itself. */
  readonly summary: {
    readonly tls: 'off' | 'system CAs' | 'CA file';
    readonly clientCertificate: string | null;
    readonly tokenFingerprint: string | null;
  };
}

/**
 * Reads the trainer's TLS files and token file into feed client options, before any connection: a missing
 * or malformed file, or a key that is not the certificate's, is an INVALID_ARGUMENT naming the option and
 * the file. The token is the file's first token (the file format of the server's --auth-token-file, so one
 * file may serve both; during a rotation put the new token first).
 */
export async function readFeedSecurity(
  config: Pick<TrainConfig, 'tls' | 'authTokenFile'>,
): Promise<FeedSecurity> {
  const tls = config.tls ?? null;
  const [ca, cert, key, tokens] = await Promise.all([
    tls?.caFile ? readCertificates(tls.caFile, '--tls-ca') : null,
    tls?.certFile ? readCertificates(tls.certFile, '--tls-cert') : null,
    tls?.keyFile ? readPrivateKey(tls.keyFile, '--tls-key') : null,
    config.authTokenFile ? readTokenFile(config.authTokenFile, '--auth-token-file') : null,
  ]);
  if (cert !== null && key !== null && tls?.certFile && tls.keyFile) {
    assertKeyOfCertificate(cert, `--tls-cert ${tls.certFile}`, key, `--tls-key ${tls.keyFile}`);
  }
  const token = tokens?.[0] ?? null;
  const pems = {
    ...(ca ? { ca: ca.pem } : {}),
    ...(cert ? { cert: cert.pem } : {}),
    ...(key ? { key: key.pem } : {}),
  };
  return {
    options: {
      ...(tls === null ? {} : { tls: Object.keys(pems).length === 0 ? true : pems }),
      ...(token === null ? {} : { token }),
    },
    summary: {
      tls: tls === null ? 'off' : ca === null ? 'system CAs' : 'CA file',
      clientCertificate: cert?.certificates[0]?.subject ?? null,
      tokenFingerprint: token === null ? null : tokenFingerprint(token),
    },
  };
}
