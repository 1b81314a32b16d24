import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isVoxelfeedError } from '../../../common/voxelfeed-error.js';
import { readFeedSecurity } from '../../../trainer/config/read-feed-security.js';
import { createTestCertificates, type TestCertificates } from '../../support/test-certificates.js';

describe('readFeedSecurity', () => {
  let pki: TestCertificates;
  let tokens: string;

  before(async () => {
    pki = await createTestCertificates();
    tokens = path.join(pki.dir, 'tokens');
    await writeFile(tokens, '# comment\n\n  current-token  \nprevious-token\n');
  });

  after(async () => {
    await pki?.cleanup();
  });

  it('gives no TLS and no token options when none are configured', async () => {
    const security = await readFeedSecurity({ tls: null, authTokenFile: null });
    assert.deepEqual(security.options, {});
    assert.deepEqual(security.summary, { tls: 'off', clientCertificate: null, tokenFingerprint: null });
  });

  it('asks for the system CAs with --tls alone', async () => {
    const security = await readFeedSecurity({
      tls: { caFile: null, certFile: null, keyFile: null },
      authTokenFile: null,
    });
    assert.deepEqual(security.options, { tls: true });
    assert.equal(security.summary.tls, 'system CAs');
  });

  it('passes the CA, the client certificate and key as read, and the first token of the file', async () => {
    const security = await readFeedSecurity({
      tls: { caFile: pki.ca, certFile: pki.client.cert, keyFile: pki.client.key },
      authTokenFile: tokens,
    });
    assert.deepEqual(security.options, {
      tls: {
        ca: await readFile(pki.ca),
        cert: await readFile(pki.client.cert),
        key: await readFile(pki.client.key),
      },
      token: 'current-token',
    });
    assert.equal(security.summary.clientCertificate, 'CN=voxelfeed-trainer');
    assert.match(security.summary.tokenFingerprint ?? '', /^[0-9a-f]{8}$/);
  });

  it("refuses a key that is not the client certificate's, and a missing CA file, naming option and file", async () => {
    await assert.rejects(
      readFeedSecurity({
        tls: { caFile: null, certFile: pki.client.cert, keyFile: pki.server.key },
        authTokenFile: null,
      }),
      (error: Error) =>
        isVoxelfeedError(error) &&
        error.message.startsWith(
          `--tls-key ${pki.server.key} is not the private key of the certificate in --tls-cert`,
        ),
    );
    const missing = path.join(pki.dir, 'no-ca.crt');
    await assert.rejects(
      readFeedSecurity({ tls: { caFile: missing, certFile: null, keyFile: null }, authTokenFile: null }),
      (error: Error) =>
        isVoxelfeedError(error) && error.message.startsWith(`--tls-ca ${missing}: cannot read it`),
    );
  });
});
