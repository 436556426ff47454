import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRootCA, issueNodeKeyAndCert } from '../swarm/ca/index.js';
import { Client } from './client.js';
import { main } from './main.js';
import { testIO } from './testutil.js';
import { loadClientTls, tlsFiles } from './tls.js';

let dir = '';
const f = (n: string) => path.join(dir, n);
let server: https.Server;
let port = 0;
/** the client certificate's CN the test server saw last ('' = none) */
let seenClient = '';

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'shoal-cli-tls-test-'));
  const ca = await createRootCA();
  const other = await createRootCA();
  const srv = await issueNodeKeyAndCert(ca, { nodeId: 'daemon', role: 'manager', clusterId: 'test', ips: ['127.0.0.1'] });
  const cli = await issueNodeKeyAndCert(ca, { nodeId: 'cli', role: 'worker', clusterId: 'test' });
  const stray = await issueNodeKeyAndCert(ca, { nodeId: 'stray', role: 'worker', clusterId: 'test' });
  // certs/: a complete DOCKER_CERT_PATH; other/: trusts another CA
  mkdirSync(f('certs'));
  writeFileSync(f('certs/ca.pem'), ca.certPem);
  writeFileSync(f('certs/cert.pem'), cli.certPem);
  writeFileSync(f('certs/key.pem'), cli.keyPem);
  mkdirSync(f('other'));
  writeFileSync(f('other/ca.pem'), other.certPem);
  writeFileSync(f('stray-key.pem'), stray.keyPem);
  writeFileSync(f('junk.pem'), 'junk\n');
  server = https.createServer({ cert: srv.certPem, key: srv.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    seenClient = String((req.socket as TLSSocket).getPeerCertificate()?.subject?.CN ?? '');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(req.url?.endsWith('/volumes') ? '{"Volumes":[],"Warnings":[]}\n' : '{}\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as import('node:net').AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const none = new Set<string>();

test('which files, as the docker CLI picks them', () => {
  const exists = (p: string) => p.startsWith('/c/');
  assert.equal(tlsFiles({ changed: none }, {}), undefined);
  // DOCKER_TLS_VERIFY counts when set at all, even to 0
  assert.deepEqual(tlsFiles({ changed: none }, { DOCKER_TLS_VERIFY: '0', DOCKER_CERT_PATH: '/c' }, exists), { verify: true, ca: '/c/ca.pem', cert: '/c/cert.pem', key: '/c/key.pem' });
  // default client cert/key that do not exist are left out; the CA path stays
  assert.deepEqual(tlsFiles({ tls: true, changed: new Set(['tls']) }, { DOCKER_CONFIG: '/d' }, exists), { verify: false, ca: '/d/ca.pem', cert: '', key: '' });
  // --tlsverify=false still means TLS; flags win over DOCKER_CERT_PATH
  assert.deepEqual(tlsFiles({ tlsverify: false, tlscacert: '/x/ca', tlscert: '/x/c', changed: new Set(['tlsverify', 'tlscacert', 'tlscert']) }, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }, exists),
    { verify: false, ca: '/x/ca', cert: '/x/c', key: '/c/key.pem' });
  assert.equal(tlsFiles({ tls: false, changed: new Set(['tls']) }, { DOCKER_TLS: '1' }), undefined);
  assert.equal(tlsFiles({ changed: none }, { DOCKER_TLS: '1' })?.verify, false);
});

test('bad files give the docker CLI\'s messages', () => {
  const files = { verify: true, ca: f('certs/ca.pem'), cert: f('certs/cert.pem'), key: f('certs/key.pem') };
  assert.ok(loadClientTls(files).key);
  assert.throws(() => loadClientTls({ ...files, ca: f('nope/ca.pem') }), { message: `unable to resolve docker endpoint: open ${f('nope/ca.pem')}: no such file or directory` });
  assert.throws(() => loadClientTls({ ...files, ca: f('junk.pem') }), { message: 'failed to retrieve context tls info: ca.pem seems invalid' });
  assert.throws(() => loadClientTls({ ...files, key: f('junk.pem') }), { message: 'no valid private key found' });
  assert.throws(() => loadClientTls({ ...files, key: f('stray-key.pem') }), /failed to retrieve context tls info: .*private key does not match/);
  // a certificate without a key is not sent
  assert.equal(loadClientTls({ ...files, key: '' }).cert, undefined);
});

test('the client over TLS: verified, unverified, with and without a client certificate', async () => {
  const host = `tcp://127.0.0.1:${port}`;
  const good = loadClientTls({ verify: true, ca: f('certs/ca.pem'), cert: f('certs/cert.pem'), key: f('certs/key.pem') });
  assert.deepEqual(await new Client(host, { tls: good }).get('/info'), {});
  assert.equal(seenClient, 'cli');
  const anon = loadClientTls({ verify: true, ca: f('certs/ca.pem'), cert: '', key: '' });
  await new Client(host, { tls: anon }).get('/info');
  assert.equal(seenClient, '');
  const wrongCa = loadClientTls({ verify: true, ca: f('other/ca.pem'), cert: '', key: '' });
  await assert.rejects(new Client(host, { tls: wrongCa }).get('/info'), /^Error: error during connect: .*(certificate|signature)/);
  // --tls without --tlsverify does not check the daemon's certificate
  await new Client(host, { tls: { ...wrongCa, verify: false } }).get('/info');
  // no TLS to a TLS port fails
  await assert.rejects(new Client(host).get('/info'));
});

test('shoal with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH; missing files stop it before any request', async () => {
  const io = testIO('', { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: f('certs') });
  assert.equal(await main(['-H', `tcp://127.0.0.1:${port}`, 'volume', 'ls', '-q'], io), 0, io.stderr.text);
  assert.equal(seenClient, 'cli');
  const bad = testIO('', { DOCKER_CERT_PATH: f('empty') });
  assert.equal(await main(['--tlsverify', '-H', `tcp://127.0.0.1:${port}`, 'volume', 'ls'], bad), 1);
  assert.equal(bad.stderr.text, `Failed to initialize: unable to resolve docker endpoint: open ${f('empty/ca.pem')}: no such file or directory\n`);
});
