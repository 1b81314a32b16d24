import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readOptionFile } from './read-option-file.js';
import { VoxelfeedError } from './voxelfeed-error.js';

/** The certificates of one PEM file: the bytes for grpc-js, and each certificate parsed (a chain: leaf first). */
export interface PemCertificates {
  readonly pem: Buffer;
  readonly certificates: readonly X509Certificate[];
}

/** A PEM private key: the bytes for grpc-js, and the parsed key to check it against a certificate. */
export interface PemPrivateKey {
  readonly pem: Buffer;
  readonly key: KeyObject;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const CERTIFICATE_HEADER = /-----BEGIN CERTIFICATE-----/;
const PRIVATE_KEY_HEADER = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/*
 * grpc-js hands PEM bytes to Node's TLS, which reports a bad file only when the first connection arrives,
 * as an opaque handshake failure on the client's side. Parsing every file here instead turns a wrong path,
 * a swapped cert and key, a DER file or a passphrase-protected key into one start-up error naming the file.
 */

/** Reads a PEM file of one or more certificates (`option` names where the path came from, for messages). */
export async function readCertificates(file: string, option: string): Promise<PemCertificates> {
  const pem = await readOptionFile(file, option);
  return { pem, certificates: parseCertificates(pem.toString('latin1'), `${option} ${file}`) };
}

/** Every certificate of a PEM text; `where` (`--tls-cert FILE`) starts each message. */
export function parseCertificates(text: string, where: string): X509Certificate[] {
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    const hint = PRIVATE_KEY_HEADER.test(text)
      ? 'it holds a private key; is it the key file given in place of the certificate?'
      : 'give the certificate in PEM form ("-----BEGIN CERTIFICATE-----"; openssl x509 -inform der -in FILE -out FILE.pem converts a DER file)';
    throw new VoxelfeedError('INVALID_ARGUMENT', `${where}: no PEM certificate in it; ${hint}`);
  }
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new VoxelfeedError(
        'INVALID_ARGUMENT',
        `${where}: certificate ${i + 1} of ${blocks.length} cannot be parsed (${(error as Error).message}); replace it with a valid PEM certificate`,
        { cause: error },
      );
    }
  });
}

/** Reads an unencrypted PEM private key (`option` names where the path came from, for messages). */
export async function readPrivateKey(file: string, option: string): Promise<PemPrivateKey> {
  const pem = await readOptionFile(file, option);
  return { pem, key: parsePrivateKey(pem.toString('latin1'), `${option} ${file}`) };
}

export function parsePrivateKey(text: string, where: string): KeyObject {
  if (!PRIVATE_KEY_HEADER.test(text)) {
    const hint = CERTIFICATE_HEADER.test(text)
      ? 'it holds a certificate; is it the certificate file given in place of the key?'
      : 'give the key in PEM form ("-----BEGIN PRIVATE KEY-----")';
    throw new VoxelfeedError('INVALID_ARGUMENT', `${where}: no PEM private key in it; ${hint}`);
  }
  // gRPC takes no passphrase: an encrypted key could never be used, so say so instead of a decoder error.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${where}: the key is protected by a passphrase, which gRPC cannot take; write it unencrypted (openssl pkey -in FILE -out key.pem) and protect it with file permissions instead`,
    );
  }
  try {
    return createPrivateKey(text);
  } catch (error) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${where}: the private key cannot be parsed (${(error as Error).message}); replace it with a valid PEM key`,
      { cause: error },
    );
  }
}

/** Throws unless `key` is the private key of the first certificate of `chain` (the leaf). */
export function assertKeyOfCertificate(
  chain: PemCertificates,
  certWhere: string,
  key: PemPrivateKey,
  keyWhere: string,
): void {
  const leaf = chain.certificates[0];
  if (leaf === undefined || !leaf.checkPrivateKey(key.key)) {
    throw new VoxelfeedError(
      'INVALID_ARGUMENT',
      `${keyWhere} is not the private key of the certificate in ${certWhere}; give the key that certificate was issued for`,
    );
  }
}
