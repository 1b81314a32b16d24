#!/usr/bin/env node
// Docker HEALTHCHECK for the voxelfeed server: asks grpc.health.v1.Health/Check and exits 0 on SERVING, 1
// otherwise (not serving, unreachable, no answer in time, unreadable TLS files). Plain JavaScript, so it
// starts without tsx.
//
// Usage: node deploy/docker/grpc-health-check.mjs [HOST:PORT] [SERVICE]
//   HOST:PORT  default 127.0.0.1:$VOXELFEED_PORT, else 127.0.0.1:50051
//   SERVICE    default "" (the whole server); "voxelfeed.v1.VoxelFeed" asks for the feed service
//
// TLS. The check reads the server's own variables, so a container configured by them is checked as it
// serves: plaintext unless VOXELFEED_TLS_CERT (or VOXELFEED_HEALTH_CA) is set, then TLS with
//   VOXELFEED_HEALTH_CA           PEM CA(s) to trust. Default: the server's chain, VOXELFEED_TLS_CERT, which
//                                 verifies a self-signed certificate or a chain file that ends with its root;
//                                 a certificate signed by a CA not in that file needs this variable.
//   VOXELFEED_HEALTH_SERVER_NAME  the name to verify the certificate for. Default: HOST when the certificate
//                                 names it, else the certificate's first DNS name (or its CN), since the check
//                                 dials 127.0.0.1 while the certificate names the service.
//   VOXELFEED_HEALTH_CERT         mutual TLS (VOXELFEED_TLS_CLIENT_CA set): the client certificate and its
//   VOXELFEED_HEALTH_KEY          key. Default: the server's VOXELFEED_TLS_CERT and VOXELFEED_TLS_KEY, which
//                                 the server accepts only when VOXELFEED_TLS_CLIENT_CA signed that certificate
//                                 and it allows clientAuth; give a client certificate here otherwise.
// A server given TLS by flags (--tls-cert) rather than variables needs these set for the check too.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';

const TIMEOUT_MS = 3000;
// grpc-js sends an IP address as the TLS server name, which Node flags (DEP0123) on every TLS check of
// 127.0.0.1; the warning would bury the one line the health log is for.
process.noDeprecation = true;
const env = (name) => process.env[name] || undefined;
const address = process.argv[2] ?? `127.0.0.1:${env('VOXELFEED_PORT') ?? 50051}`;
const service = process.argv[3] ?? '';

function fail(message) {
  console.error(`health check of ${address}: ${message}`);
  process.exit(1);
}

function readVariable(name) {
  const file = env(name);
  try {
    return readFileSync(file);
  } catch (error) {
    return fail(`cannot read ${name} ${file}: ${error.message}`);
  }
}

/** HOST of HOST:PORT, without the brackets of an IPv6 address. */
function hostOf(target) {
  const host = target.replace(/^dns:\/*/, '').replace(/:\d+$/, '');
  return host.replace(/^\[(.*)\]$/, '$1');
}

/** The name to verify the server's certificate for, or undefined to verify it for HOST as dialled. */
function serverName(serverCertPem, host) {
  if (env('VOXELFEED_HEALTH_SERVER_NAME') !== undefined) return env('VOXELFEED_HEALTH_SERVER_NAME');
  if (serverCertPem === undefined) return undefined;
  let certificate;
  try {
    certificate = new X509Certificate(serverCertPem); // the first certificate: the server's own
  } catch (error) {
    return fail(`VOXELFEED_TLS_CERT ${env('VOXELFEED_TLS_CERT')} is not a PEM certificate: ${error.message}`);
  }
  if (isIP(host) ? certificate.checkIP(host) : certificate.checkHost(host)) return undefined;
  const dnsNames = (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice('DNS:'.length));
  // A wildcard name verifies any one label in its place.
  const name = dnsNames[0]?.replace(/^\*\./, 'health.') ?? /^CN=(.*)$/m.exec(certificate.subject)?.[1];
  return name ?? fail(`VOXELFEED_TLS_CERT names no host; set VOXELFEED_HEALTH_SERVER_NAME`);
}

/** Channel credentials and options, and a line that says what TLS was tried (for failures). */
function channelSecurity() {
  if (env('VOXELFEED_TLS_CERT') === undefined && env('VOXELFEED_HEALTH_CA') === undefined) {
    return { creds: credentials.createInsecure(), options: {}, described: '' };
  }
  const serverCert = env('VOXELFEED_TLS_CERT') === undefined ? undefined : readVariable('VOXELFEED_TLS_CERT');
  const caVariable = env('VOXELFEED_HEALTH_CA') === undefined ? 'VOXELFEED_TLS_CERT' : 'VOXELFEED_HEALTH_CA';
  const ca = caVariable === 'VOXELFEED_TLS_CERT' ? serverCert : readVariable('VOXELFEED_HEALTH_CA');
  let client = [];
  if (env('VOXELFEED_HEALTH_CERT') !== undefined || env('VOXELFEED_HEALTH_KEY') !== undefined) {
    if (env('VOXELFEED_HEALTH_CERT') === undefined || env('VOXELFEED_HEALTH_KEY') === undefined) {
      fail('set both VOXELFEED_HEALTH_CERT and VOXELFEED_HEALTH_KEY (a client certificate and its key)');
    }
    client = ['VOXELFEED_HEALTH_CERT', 'VOXELFEED_HEALTH_KEY'];
  } else if (env('VOXELFEED_TLS_CLIENT_CA') !== undefined && serverCert !== undefined) {
    client = ['VOXELFEED_TLS_CERT', 'VOXELFEED_TLS_KEY'];
  }
  const [certVariable, keyVariable] = client;
  const cert = certVariable === undefined ? null : readVariable(certVariable);
  const key = keyVariable === undefined ? null : readVariable(keyVariable);
  const name = serverName(serverCert, hostOf(address));
  const options = name === undefined ? {} : { 'grpc.ssl_target_name_override': name };
  const hint =
    certVariable === 'VOXELFEED_TLS_CERT'
      ? '; under mutual TLS the server must accept that certificate as a client: else set VOXELFEED_HEALTH_CERT and VOXELFEED_HEALTH_KEY'
      : '';
  const described =
    ` (TLS trusting ${caVariable} ${env(caVariable)}, for the name ${name ?? hostOf(address)}, ` +
    `client certificate ${certVariable === undefined ? 'none' : `${certVariable} ${env(certVariable)}`}${hint})`;
  return { creds: credentials.createSsl(ca, key, cert), options, described };
}

const { creds, options, described } = channelSecurity();
const definition = loadPackageDefinition(loadSync(protoPath, { keepCase: true, enums: String }));
const Health = definition.grpc.health.v1.Health;
const client = new Health(address, creds, options);

client.check({ service }, { deadline: Date.now() + TIMEOUT_MS }, (error, response) => {
  client.close();
  if (error) fail(`${error.message}${described}`);
  const status = response?.status;
  if (status !== 'SERVING') console.error(`health check of ${address}: ${status}`);
  process.exit(status === 'SERVING' ? 0 : 1);
});
