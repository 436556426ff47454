// Go's TLS stack must accept these certificates too: etcd (a child of shoald on managers) serves
// clients and peers with node certs and checks clients against the swarm CA, dialled by IP.
// Runs the real etcd 3.4 when it is installed, and is skipped otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootCA } from './root-ca.js';
import { issueNodeKeyAndCert } from './node-cert.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('etcd serves and authenticates with swarm node certificates over IP', { skip: !existsSync(ETCD) || !existsSync(ETCDCTL), timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-ca-etcd-'));
  const f = (n: string, text?: string) => { const p = join(dir, n); if (text !== undefined) writeFileSync(p, text); return p; };
  const ca = await createRootCA();
  const other = await createRootCA();
  const mgr = await issueNodeKeyAndCert(ca, { nodeId: 'mgr1', role: 'manager', clusterId: 'c1', ips: ['127.0.0.1'] });
  const wrk = await issueNodeKeyAndCert(ca, { nodeId: 'wrk1', role: 'worker', clusterId: 'c1' });
  const strange = await issueNodeKeyAndCert(other, { nodeId: 'x1', role: 'manager', clusterId: 'c1', ips: ['127.0.0.1'] });
  f('ca.pem', ca.certPem); f('m.crt', mgr.certPem); f('m.key', mgr.keyPem);
  f('w.crt', wrk.certPem); f('w.key', wrk.keyPem); f('s.crt', strange.certPem); f('s.key', strange.keyPem);
  const [cport, pport] = [await freePort(), await freePort()];
  const client = `https://127.0.0.1:${cport}`;
  const peer = `https://127.0.0.1:${pport}`;
  const etcd = spawn(ETCD, [
    '--name', 'mgr1', '--data-dir', f('data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `mgr1=${peer}`,
    '--client-cert-auth', '--trusted-ca-file', f('ca.pem'), '--cert-file', f('m.crt'), '--key-file', f('m.key'),
    '--peer-client-cert-auth', '--peer-trusted-ca-file', f('ca.pem'), '--peer-cert-file', f('m.crt'), '--peer-key-file', f('m.key'),
  ], { stdio: 'ignore' });
  const ctl = (cert: string, ...args: string[]) => spawnSync(ETCDCTL, [
    '--endpoints', client, '--cacert', f('ca.pem'), '--cert', f(`${cert}.crt`), '--key', f(`${cert}.key`), '--dial-timeout', '2s', '--command-timeout', '3s', ...args,
  ], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, ETCDCTL_API: '3' } });
  try {
    let ready = false;
    for (let i = 0; i < 40 && !ready; i++) {
      ready = ctl('m', 'endpoint', 'health').status === 0;
      if (!ready) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(ready, 'etcd came up with the manager certificate (server name checked against the IP SAN)');
    assert.equal(ctl('w', 'put', 'k', 'v').status, 0, 'a worker certificate is a valid client certificate');
    assert.equal(ctl('m', 'get', 'k', '--print-value-only').stdout.trim(), 'v');
    assert.notEqual(ctl('s', 'get', 'k').status, 0, 'a certificate from another CA is refused');
  } finally {
    etcd.kill('SIGTERM');
    await new Promise((r) => { if (etcd.exitCode !== null) r(null); else etcd.once('exit', r); });
    rmSync(dir, { recursive: true, force: true });
  }
});
