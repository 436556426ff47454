import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCA } from './root-ca.js';
import { issueNodeKeyAndCert, parseNodeCert } from './node-cert.js';
import { checkSigningCA, crossSignRootCA, samePublicKey } from './root-rotation.js';
import { issuerInfoOfCert, issuerOf, nodeTlsInfo } from './issuer.js';
import { clientTlsOptions, serverTlsOptions } from './tls.js';

const setup = (async () => {
  const oldCa = await createRootCA();
  const newCa = await createRootCA();
  const cross = await crossSignRootCA(oldCa, newCa.certPem);
  // issued by the new key, sent with the cross-signed root as intermediate (a node mid-rotation)
  const mid = await issueNodeKeyAndCert(newCa, { nodeId: 'n1', role: 'manager', clusterId: 'c1', ips: ['127.0.0.1'], chainPem: cross });
  const oldLeaf = await issueNodeKeyAndCert(oldCa, { nodeId: 'n2', role: 'manager', clusterId: 'c1', ips: ['127.0.0.1'] });
  return { oldCa, newCa, cross, mid, oldLeaf };
})();

/** One handshake on 127.0.0.1: true when the client got the server's greeting. */
async function handshake(server: { trust: string; certPem: string; keyPem: string }, client: { trust: string; certPem: string; keyPem: string }): Promise<boolean> {
  const srv = tls.createServer(serverTlsOptions({ caCertPems: [server.trust], certPem: server.certPem, keyPem: server.keyPem }), (s) => s.write('hi'));
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    return await new Promise<boolean>((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ...clientTlsOptions({ caCertPems: [client.trust], certPem: client.certPem, keyPem: client.keyPem }) });
      const timer = setTimeout(() => { c.destroy(); resolve(false); }, 5000);
      c.once('data', () => { clearTimeout(timer); c.destroy(); resolve(true); });
      c.once('error', () => { clearTimeout(timer); resolve(false); });
      c.once('close', () => { clearTimeout(timer); resolve(false); });
    });
  } finally { srv.close(); }
}

test('the cross-signed root has the new subject, key and validity, issued by the old root', async () => {
  const { oldCa, newCa, cross } = await setup;
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: cross, encoding: 'utf8' });
  assert.match(text, /CA:TRUE/);
  assert.ok(samePublicKey(cross, newCa.certPem));
  assert.ok(!samePublicKey(cross, oldCa.certPem));
  const end = (pem: string) => execFileSync('openssl', ['x509', '-noout', '-enddate'], { input: pem, encoding: 'utf8' });
  assert.equal(end(cross), end(newCa.certPem));
  assert.deepEqual(issuerInfoOfCert(cross.replace(/[\s\S]*?-----BEGIN/, '-----BEGIN')), issuerInfoOfCert(newCa.certPem));
});

test('a leaf from the new key plus the cross-signed root verifies against the old root and the new one (openssl)', async () => {
  const { oldCa, newCa, cross, mid } = await setup;
  const dir = mkdtempSync(join(tmpdir(), 'rot-'));
  try {
    const f = (n: string, t: string) => { writeFileSync(join(dir, n), t); return join(dir, n); };
    const leaf = f('leaf.pem', mid.certPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
    const run = (args: string[]) => { try { execFileSync('openssl', ['verify', ...args, leaf], { stdio: 'pipe' }); return true; } catch { return false; } };
    assert.equal(run(['-CAfile', f('old.pem', oldCa.certPem), '-untrusted', f('cross.pem', cross)]), true);
    assert.equal(run(['-CAfile', f('new.pem', newCa.certPem), '-untrusted', join(dir, 'cross.pem')]), true);
    assert.equal(run(['-CAfile', join(dir, 'old.pem')]), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('mutual TLS holds across the rotation: old-root trust and new-root trust both accept a mid-rotation node', async () => {
  const { oldCa, newCa, mid, oldLeaf } = await setup;
  // nodes still on the old root and its certificates talk to a node that already renewed
  assert.equal(await handshake({ trust: oldCa.certPem, ...mid }, { trust: oldCa.certPem, ...oldLeaf }), true);
  assert.equal(await handshake({ trust: oldCa.certPem, ...oldLeaf }, { trust: oldCa.certPem, ...mid }), true);
  // after the switch, trusting only the new root, renewed nodes still talk to each other
  assert.equal(await handshake({ trust: newCa.certPem, ...mid }, { trust: newCa.certPem, ...mid }), true);
  // and a certificate from the old root is no longer accepted
  assert.equal(await handshake({ trust: newCa.certPem, ...mid }, { trust: newCa.certPem, ...oldLeaf }), false);
});

test('issuerOf finds the issuer through the chain or the trust roots; nodeTlsInfo is Docker\'s TLSInfo', async () => {
  const { oldCa, newCa, mid, oldLeaf } = await setup;
  assert.deepEqual(issuerOf(mid.certPem, oldCa.certPem), issuerInfoOfCert(newCa.certPem));
  assert.deepEqual(issuerOf(oldLeaf.certPem, oldCa.certPem), issuerInfoOfCert(oldCa.certPem));
  assert.equal(issuerOf(oldLeaf.certPem, newCa.certPem), undefined);
  const info = nodeTlsInfo(mid.certPem, oldCa.certPem);
  assert.equal(info.TrustRoot, oldCa.certPem);
  assert.equal(info.CertIssuerPublicKey, issuerInfoOfCert(newCa.certPem).CertIssuerPublicKey);
  // the leaf still parses as a node certificate with its chain attached
  assert.equal(parseNodeCert(mid.certPem.split(/(?<=-----END CERTIFICATE-----\n)/)[0]!).nodeId, 'n1');
});

test('checkSigningCA refuses what SwarmKit refuses, with its messages', async () => {
  const { oldCa, newCa } = await setup;
  assert.equal(await checkSigningCA(newCa.certPem, newCa.keyPem), newCa.certPem);
  await assert.rejects(checkSigningCA(newCa.certPem, oldCa.keyPem), { message: 'certificate key mismatch' });
  await assert.rejects(checkSigningCA(newCa.certPem + oldCa.certPem, newCa.keyPem), { message: 'the desired CA certificate cannot contain multiple certificates' });
  await assert.rejects(checkSigningCA('nope', newCa.keyPem), { message: 'could not parse the desired CA certificate' });
  const short = await createRootCA({ validityDays: 100 });
  await assert.rejects(checkSigningCA(short.certPem, short.keyPem), (e: Error & { statusCode?: number }) => e.message === 'CA certificate expires too soon' && e.statusCode === 400);
});
