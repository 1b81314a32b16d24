import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ServerCredentials } from '@grpc/grpc-js';
import { readServerTls } from '../../../server/config/read-tls-files.js';
import { isVoxelfeedError } from '../../../server/errors.js';
import { createTestCertificates, type TestCertificates } from '../../support/test-certificates.js';

const run = promisify(execFile);

/** The message of the INVALID_ARGUMENT that `promise` rejects with. */
async function problems(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isVoxelfeedError(error), String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    return error.message;
  }
  return assert.fail('expected the TLS files to be refused');
}

describe('readServerTls', () => {
  let pki: TestCertificates;
  const file = (name: string) => path.join(pki.dir, name);

  before(async () => {
    pki = await createTestCertificates();
    await run('openssl', ['x509', '-in', pki.server.cert, '-outform', 'der', '-out', file('server.der')]);
    await run('openssl', [
      'pkey',
      '-in',
      pki.server.key,
      '-aes256',
      '-passout',
      'pass:x',
      '-out',
      file('enc.key'),
    ]);
    await writeFile(
      file('corrupt.crt'),
      '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
    );
  });

  after(async () => {
    await pki?.cleanup();
  });

  it('builds credentials that require client certificates when a client CA is given', async () => {
    const tls = await readServerTls({
      certFile: pki.server.cert,
      keyFile: pki.server.key,
      clientCaFile: pki.ca,
    });
    assert.ok(tls.credentials instanceof ServerCredentials);
    assert.equal(tls.mutual, true);
    assert.equal(tls.certificate.subject, 'CN=localhost');
    assert.equal(tls.certificate.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
  });

  it('builds plain TLS credentials without a client CA', async () => {
    const tls = await readServerTls({
      certFile: pki.server.cert,
      keyFile: pki.server.key,
      clientCaFile: null,
    });
    assert.equal(tls.mutual, false);
  });

  it('reports a missing file, swapped files and a bad client CA together, each by option and file', async () => {
    const missing = file('missing.crt');
    const message = await problems(
      readServerTls({ certFile: missing, keyFile: pki.server.cert, clientCaFile: pki.server.key }),
    );
    assert.match(message, /^bad TLS files:\n/);
    for (const fragment of [
      `--tls-cert ${missing}: cannot read it: no such file`,
      `--tls-key ${pki.server.cert}: no PEM private key in it; it holds a certificate`,
      `--tls-client-ca ${pki.server.key}: no PEM certificate in it; it holds a private key`,
    ]) {
      assert.ok(message.includes(fragment), `"${message}" lacks "${fragment}"`);
    }
    assert.equal(message.split('\n').length, 4, 'a header line and three problems');
  });

  it("refuses a key that is not the certificate's", async () => {
    const message = await problems(
      readServerTls({ certFile: pki.server.cert, keyFile: pki.client.key, clientCaFile: null }),
    );
    assert.ok(
      message.includes(
        `--tls-key ${pki.client.key} is not the private key of the certificate in --tls-cert ${pki.server.cert}`,
      ),
      message,
    );
  });

  it('refuses a DER certificate, a corrupt one and a passphrase-protected key with the fix', async () => {
    const der = await problems(
      readServerTls({ certFile: file('server.der'), keyFile: pki.server.key, clientCaFile: null }),
    );
    assert.match(
      der,
      /server\.der: no PEM certificate in it; give the certificate in PEM form .*openssl x509 -inform der/,
    );
    const corrupt = await problems(
      readServerTls({ certFile: file('corrupt.crt'), keyFile: pki.server.key, clientCaFile: null }),
    );
    assert.match(corrupt, /corrupt\.crt: certificate 1 of 1 cannot be parsed/);
    const encrypted = await problems(
      readServerTls({ certFile: pki.server.cert, keyFile: file('enc.key'), clientCaFile: null }),
    );
    assert.match(
      encrypted,
      /enc\.key: the key is protected by a passphrase, which gRPC cannot take; .*openssl pkey/,
    );
  });
});
