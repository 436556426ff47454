import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCA, loadCA } from './root-ca.js';
import {
  createCsr, generateNodeKey, issueNodeCert, issueNodeKeyAndCert, parseNodeCert, publicKeyPemOf, renewalDue, renewalTime, verifyIssuedBy,
} from './node-cert.js';
import { decodePemBlocks, encodePem } from './pem.js';

const openssl = (args: string[], input?: string) => execFileSync('openssl', args, { input, encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe'] });
const DAY = 86400_000;

/** openssl verify needs files; true when it prints OK. */
function opensslVerifies(caPem: string, certPem: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-ca-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), caPem);
    writeFileSync(join(dir, 'cert.pem'), certPem);
    return /: OK/.test(openssl(['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'cert.pem')]));
  } catch { return false; } finally { rmSync(dir, { recursive: true, force: true }); }
}

const caP = createRootCA();

test('a manager certificate has SwarmKit\'s subject, SANs, usages and lifetime (checked with openssl)', async () => {
  const ca = await caP;
  const t0 = Date.now();
  const { certPem, keyPem } = await issueNodeKeyAndCert(ca, { nodeId: 'abcdefghij0123456789klmno', role: 'manager', clusterId: 'zyxwvu9876', ips: ['10.0.0.5', '127.0.0.1'], dnsNames: ['node-a'] });
  const text = openssl(['x509', '-noout', '-text'], certPem);
  assert.match(text, /Subject: O ?= ?zyxwvu9876, OU ?= ?swarm-manager, CN ?= ?abcdefghij0123456789klmno/);
  assert.match(text, /Issuer: CN ?= ?swarm-ca/);
  assert.match(text, /DNS:swarm-manager, DNS:abcdefghij0123456789klmno, DNS:swarm-ca, DNS:node-a, IP Address:10\.0\.0\.5, IP Address:127\.0\.0\.1/);
  assert.match(text, /X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /X509v3 Authority Key Identifier/);
  assert.match(text, /NIST CURVE: P-256/);
  const start = Date.parse(openssl(['x509', '-noout', '-startdate'], certPem).trim().replace('notBefore=', ''));
  const end = Date.parse(openssl(['x509', '-noout', '-enddate'], certPem).trim().replace('notAfter=', ''));
  assert.ok(Math.abs(start - (t0 - 3600_000)) < 60_000, 'backdated one hour');
  assert.ok(Math.abs(end - (t0 + 90 * DAY)) < 60_000, '90 days');
  assert.ok(opensslVerifies(ca.certPem, certPem), 'openssl verify against the CA');
  assert.ok(!opensslVerifies((await createRootCA()).certPem, certPem), 'not against another CA');
  assert.equal(openssl(['pkey', '-pubout'], keyPem), openssl(['x509', '-noout', '-pubkey'], certPem));
});

test('a worker certificate: OU swarm-worker, no manager/CA names; parseNodeCert reads it back', async () => {
  const ca = await caP;
  const key = generateNodeKey();
  const certPem = await issueNodeCert(ca, { nodeId: 'w1', role: 'worker', clusterId: 'c1', publicKeyPem: key.publicKeyPem, ips: ['192.168.1.9', 'fd00::1'] });
  const info = parseNodeCert(certPem);
  assert.equal(info.nodeId, 'w1');
  assert.equal(info.role, 'worker');
  assert.equal(info.clusterId, 'c1');
  assert.deepEqual(info.dnsNames, ['swarm-worker', 'w1']);
  assert.deepEqual(info.ips, ['192.168.1.9', 'fd00::1']);
  assert.equal(info.issuer, 'CN=swarm-ca');
  assert.match(info.serial, /^[0-9a-f]+$/);
  // leading zero nibbles differ between printers (1 serial in 16 starts with one)
  assert.equal(info.serial.replace(/^0+/, ''), openssl(['x509', '-noout', '-serial'], certPem).trim().replace('serial=', '').toLowerCase().replace(/^0+/, ''));
  assert.ok(info.notAfter.getTime() - info.notBefore.getTime() > 89 * DAY);
  assert.doesNotMatch(openssl(['x509', '-noout', '-ext', 'subjectAltName'], certPem), /swarm-manager|swarm-ca/);
  assert.equal(publicKeyPemOf(key.keyPem), key.publicKeyPem);
  assert.throws(() => parseNodeCert(ca.certPem), /not a swarm node certificate/);
});

test('serials are random and distinct', async () => {
  const ca = await loadCA((await caP).certPem, (await caP).keyPem);
  const serials = new Set<string>();
  for (let i = 0; i < 5; i++) serials.add(parseNodeCert((await issueNodeKeyAndCert(ca, { nodeId: `n${i}`, role: 'worker', clusterId: 'c' })).certPem).serial);
  assert.equal(serials.size, 5);
});

test('CSR: openssl accepts it; the CA takes only its key, and refuses a forged one', async () => {
  const ca = await caP;
  const key = generateNodeKey();
  const csr = await createCsr(key.keyPem, { commonName: 'i-want-to-be-someone-else' });
  // OpenSSL 3 reports the self-signature check on stderr
  const checked = spawnSync('openssl', ['req', '-noout', '-verify'], { input: csr, encoding: 'utf8', timeout: 10_000 });
  assert.equal(checked.status, 0);
  assert.match(checked.stderr + checked.stdout, /verify OK/);
  const certPem = await issueNodeCert(ca, { nodeId: 'n9', role: 'worker', clusterId: 'c9', csrPem: csr });
  const info = parseNodeCert(certPem);
  assert.equal(info.nodeId, 'n9');
  assert.equal(openssl(['x509', '-noout', '-pubkey'], certPem), key.publicKeyPem);
  // a CSR with no subject (what a joining node sends) works too
  await issueNodeCert(ca, { nodeId: 'n10', role: 'worker', clusterId: 'c9', csrPem: await createCsr(key.keyPem) });
  // flip a byte in the signature: proof of possession fails
  const [b] = decodePemBlocks(csr);
  const der = Buffer.from(b!.der);
  der[der.length - 5] ^= 0xff;
  await assert.rejects(issueNodeCert(ca, { nodeId: 'n9', role: 'worker', clusterId: 'c9', csrPem: encodePem('CERTIFICATE REQUEST', der) }), /invalid CSR/);
});

test('issueNodeCert refuses bad input', async () => {
  const ca = await caP;
  const { publicKeyPem } = generateNodeKey();
  const base = { nodeId: 'n1', role: 'worker' as const, clusterId: 'c1', publicKeyPem };
  await assert.rejects(issueNodeCert(ca, { ...base, publicKeyPem: undefined }), /public key or CSR is required/);
  await assert.rejects(issueNodeCert(ca, { ...base, publicKeyPem: 'nope' }), /invalid public key/);
  await assert.rejects(issueNodeCert(ca, { ...base, ips: ['10.0.0.300'] }), /invalid IP/);
  await assert.rejects(issueNodeCert(ca, { ...base, nodeId: 'a,CN=b' }), /invalid nodeId/);
  await assert.rejects(issueNodeCert(ca, { ...base, clusterId: '' }), /invalid clusterId/);
  await assert.rejects(issueNodeCert(ca, { ...base, role: 'admin' as never }), /invalid role/);
  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
  await assert.rejects(issueNodeCert(ca, { ...base, publicKeyPem: weak }), /unsupported node key/);
  const p384 = createPublicKey(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey).export({ format: 'pem', type: 'spki' }).toString();
  await issueNodeCert(ca, { ...base, publicKeyPem: p384 });
});

test('validity: days, milliseconds, and below one hour the default (90 days) as SwarmKit does', async () => {
  const ca = await caP;
  const life = async (o: { validityDays?: number; validityMs?: number }) => {
    const i = parseNodeCert((await issueNodeKeyAndCert(ca, { nodeId: 'n', role: 'worker', clusterId: 'c', ...o })).certPem);
    return i.notAfter.getTime() - i.notBefore.getTime() - 3600_000; // minus the backdate
  };
  assert.ok(Math.abs(await life({ validityDays: 1 }) - DAY) < 2000);
  assert.ok(Math.abs(await life({ validityMs: 2 * 3600_000 }) - 2 * 3600_000) < 2000);
  assert.ok(Math.abs(await life({ validityMs: 30 * 60_000 }) - 90 * DAY) < 2000);
});

test('verifyIssuedBy: own CA yes, another CA no, either of a rotation list yes, expiry with `at`', async () => {
  const ca = await caP;
  const other = await createRootCA();
  const { certPem } = await issueNodeKeyAndCert(ca, { nodeId: 'n1', role: 'manager', clusterId: 'c1' });
  assert.equal(verifyIssuedBy(certPem, ca.certPem), true);
  assert.equal(verifyIssuedBy(certPem, other.certPem), false);
  assert.equal(verifyIssuedBy(certPem, [other.certPem, ca.certPem]), true);
  assert.equal(verifyIssuedBy(certPem, other.certPem + ca.certPem), true, 'a PEM bundle');
  assert.equal(verifyIssuedBy(certPem, ca.certPem, { at: new Date() }), true);
  assert.equal(verifyIssuedBy(certPem, ca.certPem, { at: new Date(Date.now() + 91 * DAY) }), false);
  assert.equal(verifyIssuedBy('not a cert', ca.certPem), false);
  // same subject and key id shape, different key: the signature decides
  const { certPem: otherLeaf } = await issueNodeKeyAndCert(other, { nodeId: 'n1', role: 'manager', clusterId: 'c1' });
  assert.equal(verifyIssuedBy(otherLeaf, ca.certPem), false);
});

test('renewal falls at a stable point between 50 % and 80 % of the life, spread across certs', async () => {
  const ca = await loadCA((await caP).certPem, (await caP).keyPem);
  const fracs: number[] = [];
  for (let i = 0; i < 12; i++) {
    const { certPem } = await issueNodeKeyAndCert(ca, { nodeId: `n${i}`, role: 'worker', clusterId: 'c' });
    const info = parseNodeCert(certPem);
    const at = renewalTime(certPem);
    assert.equal(at.getTime(), renewalTime(info).getTime(), 'deterministic');
    const life = info.notAfter.getTime() - info.notBefore.getTime();
    const frac = (at.getTime() - info.notBefore.getTime()) / life;
    assert.ok(frac >= 0.5 && frac <= 0.8, `fraction ${frac}`);
    fracs.push(frac);
    assert.equal(renewalDue(certPem, new Date()), false);
    assert.equal(renewalDue(info, new Date(at.getTime() - 1000)), false);
    assert.equal(renewalDue(info, at), true);
    assert.equal(renewalDue(info, new Date(info.notAfter.getTime() + DAY)), true, 'expired: renew');
  }
  assert.ok(new Set(fracs.map((f) => f.toFixed(3))).size > 6, 'spread');
  // a fixed serial always gives the same point
  const fixed = { notBefore: new Date(0), notAfter: new Date(1000_000), serial: 'abc123' };
  assert.equal(renewalTime(fixed).getTime(), renewalTime({ ...fixed }).getTime());
});
