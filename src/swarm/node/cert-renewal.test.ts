import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../daemon/logger.js';
import { SwarmBackendImpl } from '../backend-impl.js';
import { CertRenewal, MAX_CHECK_MS, nextCheckDelay, renewalPlan, retryDelay, type NodeCerts } from './cert-renewal.js';

const b = new SwarmBackendImpl(createLogger('error'), '/nonexistent');
const info = (root: string, issuer = 'i') => ({ TrustRoot: root, CertIssuerSubject: issuer, CertIssuerPublicKey: issuer });

test('renewalPlan: due by time, by another issuer (rotation), and a new trust root', () => {
  assert.deepEqual(renewalPlan(10, 20, info('r')), { renew: false, trust: false });
  assert.deepEqual(renewalPlan(20, 20, info('r')), { renew: true, trust: false });
  assert.deepEqual(renewalPlan(10, 20, info('r'), info('r')), { renew: false, trust: false });
  assert.deepEqual(renewalPlan(10, 20, info('r'), info('r', 'new')), { renew: true, trust: false });
  assert.deepEqual(renewalPlan(10, 20, info('r', 'new'), info('r2', 'new')), { renew: false, trust: true });
});

test('nextCheckDelay sleeps until the renewal time, at most MAX_CHECK_MS; retryDelay backs off to a minute', () => {
  assert.equal(nextCheckDelay(1000, 5000), 4000);
  assert.equal(nextCheckDelay(5000, 1000), 0);
  assert.equal(nextCheckDelay(0, 90 * 86400_000), MAX_CHECK_MS);
  assert.deepEqual([1, 2, 3, 10].map(retryDelay), [1000, 2000, 4000, 60_000]);
});

test('a 4-second certificate is renewed between 2 and 3.2 seconds into its life, with the same key', async () => {
  const ca = await b.createRootCA();
  const key = await b.generateNodeKey();
  const issue = async () => (await b.issueNodeCert(ca, { nodeId: 'n1', role: 'worker', clusterId: 'c1', ips: ['10.0.0.1'], publicKeyPem: key.publicKeyPem, validityMs: 4000, minValidityMs: 0, backdateMs: 0 })).certPem;
  let certs: NodeCerts = { caPem: ca.certPem, certPem: await issue(), keyPem: key.keyPem };
  const t0 = b.certTimes(certs.certPem).notBefore.getTime();
  const renewedAt: number[] = [];
  let reports = 0;
  const r = new CertRenewal(b, {
    log: createLogger('error'), certs: () => certs, role: () => 'worker', advertiseAddr: () => '10.0.0.1:2377', busy: () => false,
    call: async <T>(path: string, body: any): Promise<T> => {
      assert.equal(path, '/renew');
      assert.equal(body.renew, true);
      assert.equal(body.publicKeyPem, key.publicKeyPem);
      return { role: 'worker', certPem: await issue() } as T;
    },
    apply: async (c) => { renewedAt.push(Date.now()); certs = c; },
    restartEtcd: async () => true,
    report: () => { reports++; },
  });
  r.start();
  try {
    const deadline = Date.now() + 5000;
    while (!renewedAt.length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  } finally { r.stop(); }
  assert.equal(renewedAt.length, 1);
  const at = renewedAt[0]! - t0;
  assert.ok(at >= 1900 && at <= 3500, `renewed ${at} ms into a 4000 ms life`);
  assert.ok(b.certTimes(certs.certPem).notAfter.getTime() > t0 + 4000);
  assert.equal(reports, 1);
});

test('a heartbeat naming another issuer and then another trust root: renew, then switch trust', async () => {
  const oldCa = await b.createRootCA();
  const newCa = await b.createRootCA();
  const cross = await b.crossSignRoot(oldCa, newCa.certPem);
  const key = await b.generateNodeKey();
  let certs: NodeCerts = { caPem: oldCa.certPem, certPem: (await b.issueNodeCert(oldCa, { nodeId: 'n1', role: 'worker', clusterId: 'c1', ips: [], publicKeyPem: key.publicKeyPem })).certPem, keyPem: key.keyPem };
  const applied: NodeCerts[] = [];
  const r = new CertRenewal(b, {
    log: createLogger('error'), certs: () => certs, role: () => 'worker', advertiseAddr: () => '10.0.0.1:2377', busy: () => false,
    call: async <T>(): Promise<T> => ({ role: 'worker', certPem: (await b.issueNodeCert(newCa, { nodeId: 'n1', role: 'worker', clusterId: 'c1', ips: [], publicKeyPem: key.publicKeyPem, chainPem: cross })).certPem } as T),
    apply: async (c) => { applied.push(c); certs = c; },
    restartEtcd: async () => true,
    report: () => undefined,
  });
  r.start();
  const wait = async (n: number) => { for (let i = 0; i < 100 && applied.length < n; i++) await new Promise((res) => setTimeout(res, 20)); };
  try {
    const during = { TrustRoot: b.tlsInfo(oldCa.certPem).TrustRoot, CertIssuerSubject: b.tlsInfo(newCa.certPem).CertIssuerSubject, CertIssuerPublicKey: b.tlsInfo(newCa.certPem).CertIssuerPublicKey };
    r.observe(during);
    await wait(1);
    assert.equal(applied.length, 1);
    assert.equal(applied[0]!.caPem, oldCa.certPem, 'still trusting the old root');
    assert.deepEqual(r.tlsInfo(), during);
    r.observe(b.tlsInfo(newCa.certPem));
    await wait(2);
    assert.equal(applied.length, 2);
    assert.equal(applied[1]!.caPem, newCa.certPem);
    assert.equal(applied[1]!.certPem, applied[0]!.certPem, 'no second renewal: the certificate already chains to the new root');
  } finally { r.stop(); }
});
