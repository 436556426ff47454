import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRootCA, issueNodeKeyAndCert } from '../swarm/ca/index.js';
import { loadApiTls } from './tls.js';

let dir = '';
const f = (n: string) => path.join(dir, n);

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'shoal-tls-test-'));
  const ca = await createRootCA();
  const srv = await issueNodeKeyAndCert(ca, { nodeId: 'daemon', role: 'manager', clusterId: 'test', ips: ['127.0.0.1'] });
  const other = await issueNodeKeyAndCert(ca, { nodeId: 'other', role: 'worker', clusterId: 'test' });
  writeFileSync(f('ca.pem'), ca.certPem);
  writeFileSync(f('cert.pem'), srv.certPem);
  writeFileSync(f('key.pem'), srv.keyPem);
  writeFileSync(f('other-key.pem'), other.keyPem);
  writeFileSync(f('junk.pem'), 'not a certificate\n');
});
after(() => { rmSync(dir, { recursive: true, force: true }); });

const cfg = (o: Partial<Record<'tlsCaCert' | 'tlsCert' | 'tlsKey', string>> & { tls?: boolean; tlsVerify?: boolean } = {}) => ({
  tls: true, tlsVerify: true, tlsCaCert: f('ca.pem'), tlsCert: f('cert.pem'), tlsKey: f('key.pem'), ...o,
});

test('off, server-only and mutual TLS', async () => {
  assert.equal(await loadApiTls(cfg({ tls: false })), undefined);
  const server = await loadApiTls(cfg({ tlsVerify: false, tlsCaCert: f('missing.pem') }));
  assert.equal(server?.verifyClients, false);
  assert.equal(server?.ca, undefined);
  const mutual = await loadApiTls(cfg());
  assert.equal(mutual?.verifyClients, true);
  assert.equal(mutual?.ca?.length, 1);
});

test('bad material is a clear error naming the file', async () => {
  await assert.rejects(loadApiTls(cfg({ tlsCert: f('nope.pem') })),
    { message: `invalid TLS configuration: Could not load X509 key pair (cert: "${f('nope.pem')}", key: "${f('key.pem')}"): open ${f('nope.pem')}: no such file or directory` });
  await assert.rejects(loadApiTls(cfg({ tlsKey: f('other-key.pem') })), /Error reading X509 key pair .*private key does not match public key\. Make sure the key is not encrypted\./);
  await assert.rejects(loadApiTls(cfg({ tlsCert: f('junk.pem') })), /Error reading X509 key pair/);
  await assert.rejects(loadApiTls(cfg({ tlsCaCert: f('none.pem') })),
    { message: `invalid TLS configuration: could not read CA certificate "${f('none.pem')}": open ${f('none.pem')}: no such file or directory` });
  await assert.rejects(loadApiTls(cfg({ tlsCaCert: f('junk.pem') })), /failed to append certificates from PEM file/);
  await assert.rejects(loadApiTls(cfg({ tlsCaCert: '' })), /--tlsverify needs the CA that signs client certificates \(--tlscacert\)/);
});
