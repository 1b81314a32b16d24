import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths of PEM files made for one test run (keys unencrypted, P-256, valid for two days). */
export interface TestCertificates {
  readonly dir: string;
  /** The CA that signed `server` and `client`. */
  readonly ca: string;
  /** For 127.0.0.1 and localhost (SAN IP:127.0.0.1, DNS:localhost), serverAuth. */
  readonly server: { readonly cert: string; readonly key: string };
  /** CN voxelfeed-trainer, clientAuth. */
  readonly client: { readonly cert: string; readonly key: string };
  /** A CA nobody trusts, and a client certificate it signed. */
  readonly otherCa: string;
  readonly otherClient: { readonly cert: string; readonly key: string };
  read(file: string): Promise<Buffer>;
  cleanup(): Promise<void>;
}

/**
 * Makes a small PKI with the `openssl` command line in a fresh temp folder, so no key or certificate is ever
 * committed and none can expire in the repository. About ten openssl runs, a fraction of a second in all.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxelfeed-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = async (...args: string[]) => {
    try {
      await run('openssl', args, { cwd: dir, timeout: 20_000 });
    } catch (error) {
      // The message carries openssl's stderr, or the line naming the package when openssl is missing.
      throw new Error(`openssl ${args.join(' ')} failed: ${(error as Error).message}`, { cause: error });
    }
  };
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const makeCa = async (name: string, subject: string) => {
    await openssl(
      ...['req', '-x509', ...ecKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`)],
      ...['-days', '2', '-subj', subject],
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    );
  };
  const issue = async (ca: string, name: string, subject: string, extensions: string) => {
    await openssl(
      'req',
      '-new',
      ...ecKey,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
      '-subj',
      subject,
    );
    await writeFile(file(`${name}.ext`), extensions);
    await openssl(
      ...['x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`)],
      ...['-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2'],
      ...['-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`)],
    );
    return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
  };
  try {
    await Promise.all([makeCa('ca', '/CN=voxelfeed test CA'), makeCa('other-ca', '/CN=someone else CA')]);
    const [server, client, otherClient] = await Promise.all([
      issue(
        'ca',
        'server',
        '/CN=localhost',
        'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n',
      ),
      issue(
        'ca',
        'client',
        '/CN=voxelfeed-trainer',
        'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
      ),
      issue(
        'other-ca',
        'other-client',
        '/CN=intruder',
        'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
      ),
    ]);
    return {
      dir,
      ca: file('ca.crt'),
      server,
      client,
      otherCa: file('other-ca.crt'),
      otherClient,
      read: (name) => readFile(name),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
