import type { X509Certificate } from 'node:crypto';
import { ServerCredentials } from '@grpc/grpc-js';
import {
  assertKeyOfCertificate,
  type PemCertificates,
  type PemPrivateKey,
  readCertificates,
  readPrivateKey,
} from '@voxelfeed/common/pem-files.js';
import { isVoxelfeedError, VoxelfeedError } from '../errors.js';

/** Where the server's TLS files are (`--tls-cert`, `--tls-key`, `--tls-client-ca`). */
export interface ServeTlsFiles {
  /** PEM certificate chain, the server's own certificate first. */
  readonly certFile: string;
  /** Its unencrypted PEM private key. */
  readonly keyFile: string;
  /** PEM CA certificate(s); when given, every client must present a certificate they signed (mutual TLS). */
  readonly clientCaFile: string | null;
}

export interface ServerTls {
  readonly credentials: ServerCredentials;
  /** The server's own certificate, for the start-up log (subject, names, expiry). */
  readonly certificate: X509Certificate;
  /** Whether clients must present a certificate. */
  readonly mutual: boolean;
}

/**
 * Reads and checks the server's TLS files and builds grpc-js credentials from them: every file must parse,
 * and the key must belong to the certificate. Every problem is reported at once, in one INVALID_ARGUMENT
 * whose lines each name the option and the file.
 */
export async function readServerTls(files: ServeTlsFiles): Promise<ServerTls> {
  const [chain, key, clientCa] = await Promise.allSettled([
    readCertificates(files.certFile, '--tls-cert'),
    readPrivateKey(files.keyFile, '--tls-key'),
    files.clientCaFile === null
      ? Promise.resolve(null)
      : readCertificates(files.clientCaFile, '--tls-client-ca'),
  ]);
  const problems = [chain, key, clientCa].flatMap((result) =>
    result.status === 'rejected' ? [messageOf(result.reason)] : [],
  );
  if (chain.status === 'fulfilled' && key.status === 'fulfilled') {
    try {
      assertKeyOfCertificate(
        chain.value,
        `--tls-cert ${files.certFile}`,
        key.value,
        `--tls-key ${files.keyFile}`,
      );
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  if (problems.length > 0 || chain.status !== 'fulfilled' || key.status !== 'fulfilled') {
    throw new VoxelfeedError('INVALID_ARGUMENT', `bad TLS files:\n  ${problems.join('\n  ')}`);
  }
  const ca = clientCa.status === 'fulfilled' ? clientCa.value : null;
  return {
    credentials: credentialsOf(chain.value, key.value, ca),
    certificate: chain.value.certificates[0]!,
    mutual: ca !== null,
  };
}

function credentialsOf(chain: PemCertificates, key: PemPrivateKey, clientCa: PemCertificates | null) {
  // The third argument makes grpc-js (Node's TLS) ask for a client certificate and refuse the handshake
  // without one that `clientCa` signed; with no client CA, clients stay anonymous at the TLS level.
  return ServerCredentials.createSsl(
    clientCa?.pem ?? null,
    [{ cert_chain: chain.pem, private_key: key.pem }],
    clientCa !== null,
  );
}

function messageOf(error: unknown): string {
  if (isVoxelfeedError(error)) return error.message;
  throw error;
}
