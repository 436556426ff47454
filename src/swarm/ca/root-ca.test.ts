import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caDigest, createRootCA, loadCA, tlsInfo } from './root-ca.js';
import { issueNodeKeyAndCert, verifyIssuedBy } from './node-cert.js';
import { encodePem, pemToDer } from './pem.js';

const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { input, encoding: 'utf8', timeout: 10_000 });

test('root CA looks like SwarmKit\'s: P-256, CN=swarm-ca, CA:TRUE, cert/CRL sign, 20 years', async () => {
  const t0 = Date.now();
  const ca = await createRootCA();
  const text = openssl(['x509', '-noout', '-text'], ca.certPem);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Issuer: CN ?= ?swarm-ca/);
  assert.match(text, /Subject: CN ?= ?swarm-ca/);
  assert.match(text, /NIST CURVE: P-256/);
  assert.match(text, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
  const end = Date.parse(openssl(['x509', '-noout', '-enddate'], ca.certPem).trim().replace('notAfter=', ''));
  const years20 = 630_720_000_000;
  assert.ok(Math.abs(end - (t0 + years20)) < 120_000, `notAfter ${new Date(end).toISOString()}`);
  assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  // openssl agrees the key belongs to the cert
  assert.equal(openssl(['pkey', '-pubout'], ca.keyPem), openssl(['x509', '-noout', '-pubkey'], ca.certPem));
});

test('createRootCA options: commonName and validityDays', async () => {
  const ca = await createRootCA({ commonName: 'my-ca', validityDays: 10 });
  assert.match(openssl(['x509', '-noout', '-subject'], ca.certPem), /CN ?= ?my-ca/);
  const end = Date.parse(openssl(['x509', '-noout', '-enddate'], ca.certPem).trim().replace('notAfter=', ''));
  assert.ok(Math.abs(end - (Date.now() + 10 * 86400_000)) < 120_000);
});

test('caDigest is the sha256 of the PEM text (as SwarmKit hashes it), stable across reformatting', async () => {
  const ca = await createRootCA();
  const d = caDigest(ca.certPem);
  assert.match(d, /^[0-9a-f]{64}$/);
  assert.equal(d, createHash('sha256').update(ca.certPem).digest('hex'));
  assert.equal(caDigest(ca.certPem.replace(/\n/g, '\r\n') + '\n\n'), d);
  // a PEM rebuilt from the DER (e.g. a TLS peer's certificate) hashes the same
  assert.equal(caDigest(encodePem('CERTIFICATE', pemToDer(ca.certPem, 'CERTIFICATE'))), d);
  const other = await createRootCA();
  assert.notEqual(caDigest(other.certPem), d);
});

test('loadCA checks the pair and accepts SEC1 keys', async () => {
  const ca = await createRootCA();
  const other = await createRootCA();
  const loaded = await loadCA(ca.certPem, ca.keyPem);
  assert.equal(loaded.digest, caDigest(ca.certPem));
  await assert.rejects(loadCA(ca.certPem, other.keyPem), /does not match/);
  await assert.rejects(loadCA(ca.certPem, 'garbage'), /invalid CA key/);
  const sec1 = openssl(['ec', '-outform', 'PEM'], ca.keyPem);
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  await loadCA(ca.certPem, sec1);
  // a node certificate is not a CA
  const node = await issueNodeKeyAndCert(ca, { nodeId: 'n1', role: 'worker', clusterId: 'c1' });
  await assert.rejects(loadCA(node.certPem, node.keyPem), /not a CA/);
});

test('an imported RSA CA (docker swarm ca --ca-cert/--ca-key) can sign node certificates', async () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-ca-'));
  let certPem: string;
  try {
    writeFileSync(join(dir, 'key.pem'), keyPem);
    certPem = openssl(['req', '-x509', '-new', '-key', join(dir, 'key.pem'), '-subj', '/CN=external-ca', '-days', '30',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  const node = await issueNodeKeyAndCert({ certPem, keyPem }, { nodeId: 'n1', role: 'manager', clusterId: 'c1' });
  assert.ok(verifyIssuedBy(node.certPem, certPem));
  assert.match(openssl(['x509', '-noout', '-text'], node.certPem), /Signature Algorithm: sha256WithRSAEncryption/);
});

test('tlsInfo gives Docker\'s TLSInfo: trust root, issuer subject and public key as base64 DER', async () => {
  const ca = await createRootCA();
  const info = tlsInfo(ca.certPem);
  assert.equal(info.TrustRoot, ca.certPem);
  // same bytes as a real Docker swarm CA's subject ("CN=swarm-ca", PrintableString)
  assert.equal(info.CertIssuerSubject, 'MBMxETAPBgNVBAMTCHN3YXJtLWNh');
  const spki = pemToDer(openssl(['x509', '-noout', '-pubkey'], ca.certPem), 'PUBLIC KEY');
  assert.equal(info.CertIssuerPublicKey, spki.toString('base64'));
});
