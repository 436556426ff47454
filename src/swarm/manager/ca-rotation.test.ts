import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../daemon/logger.js';
import { SwarmBackendImpl } from '../backend-impl.js';
import { planRootCA, rotationConverged, storedCAConfig, validateCAConfig, withCA, type StoredCA } from './ca-rotation.js';
import type { ClusterObject } from './objects.js';

const b = new SwarmBackendImpl(createLogger('error'), '/nonexistent');

function cluster(ca: StoredCA): ClusterObject {
  const t = b.joinToken(ca.certPem);
  return {
    ID: 'c1', Version: { Index: 0 }, CreatedAt: '', UpdatedAt: '', Spec: { CAConfig: { NodeCertExpiry: 7776e12 } },
    TLSInfo: b.tlsInfo(ca.certPem), RootRotationInProgress: false, DefaultAddrPool: [], SubnetSize: 24, DataPathPort: 4789,
    JoinTokens: { Worker: t, Manager: t },
  };
}

test('validateCAConfig: SwarmKit\'s expiry floor and signing CA rules', () => {
  validateCAConfig({ NodeCertExpiry: 3600e9 });
  validateCAConfig({ NodeCertExpiry: 0 });
  validateCAConfig(undefined);
  assert.throws(() => validateCAConfig({ NodeCertExpiry: 1800e9 }), (e: any) => e.status === 400 && e.message === 'rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 1h0m0s');
  assert.throws(() => validateCAConfig({ SigningCAKey: 'k' }), /if a signing CA key is provided, the signing CA cert must also be provided/);
  assert.throws(() => validateCAConfig({ SigningCACert: 'c' }), /there must be at least one valid, reachable external CA/);
});

test('storedCAConfig never keeps the signing CA and keeps the expiry when 0', () => {
  assert.deepEqual(storedCAConfig({ SigningCACert: 'c', SigningCAKey: 'k', ForceRotate: 2, NodeCertExpiry: 0 }, { NodeCertExpiry: 7200e9 }), { ForceRotate: 2, NodeCertExpiry: 7200e9 });
  assert.deepEqual(storedCAConfig({ ForceRotate: 0 }, undefined), { NodeCertExpiry: 2160 * 3600e9 });
});

test('planRootCA: ForceRotate starts a rotation with a cross-signed root; the current root given back ends it', async () => {
  const root = await b.createRootCA();
  const ca: StoredCA = { ...root };
  assert.equal(await planRootCA(b, ca, { ForceRotate: 1 }, { ForceRotate: 1 }), undefined);
  const next = (await planRootCA(b, ca, { ForceRotate: 1 }, { ForceRotate: 2 }))!;
  assert.equal(next.certPem, root.certPem);
  assert.ok(next.rotation && next.rotation.certPem !== root.certPem);
  assert.ok(b.samePublicKey(next.rotation.crossSignedPem, next.rotation.certPem));
  assert.ok(b.issuedBy(next.rotation.crossSignedPem, root.certPem));
  // the cluster object follows: old trust root and tokens, new issuer, rotation in progress
  const c0 = cluster(ca);
  const c1 = withCA(c0, next, b);
  assert.equal(c1.RootRotationInProgress, true);
  assert.equal(c1.TLSInfo.TrustRoot, c0.TLSInfo.TrustRoot);
  assert.equal(c1.TLSInfo.CertIssuerPublicKey, b.tlsInfo(next.rotation.certPem).CertIssuerPublicKey);
  assert.deepEqual(c1.JoinTokens, c0.JoinTokens);
  assert.equal(withCA(c1, next, b), c1, 'unchanged: the same object');
  // finished: the new root is trusted and the tokens pin it
  const c2 = withCA(c1, { certPem: next.rotation.certPem, keyPem: next.rotation.keyPem }, b);
  assert.equal(c2.RootRotationInProgress, false);
  assert.equal(c2.TLSInfo.TrustRoot, next.rotation.certPem);
  assert.ok(b.tokenMatchesCA(c2.JoinTokens.Worker, next.rotation.certPem));
  assert.notEqual(c2.JoinTokens.Worker, c2.JoinTokens.Manager);
  // a signing CA equal to the current root aborts the rotation
  assert.deepEqual(await planRootCA(b, next, {}, { SigningCACert: root.certPem, SigningCAKey: root.keyPem }), { certPem: root.certPem, keyPem: root.keyPem });
  // a user's root with its key
  const mine = await b.createRootCA();
  const withMine = (await planRootCA(b, ca, {}, { SigningCACert: mine.certPem, SigningCAKey: mine.keyPem }))!;
  assert.equal(withMine.rotation?.certPem, mine.certPem);
  await assert.rejects(planRootCA(b, ca, {}, { SigningCACert: mine.certPem, SigningCAKey: root.keyPem }), /InvalidArgument desc = certificate key mismatch/);
});

test('rotationConverged: every node, compared by issuer subject and public key', () => {
  const want = { CertIssuerSubject: 's', CertIssuerPublicKey: 'k' };
  assert.equal(rotationConverged([{ Description: { TLSInfo: { ...want, TrustRoot: 'a' } } }, { Description: { TLSInfo: { ...want, TrustRoot: 'b' } } }], want), true);
  assert.equal(rotationConverged([{ Description: { TLSInfo: { ...want, TrustRoot: 'a' } } }, { Description: { TLSInfo: { CertIssuerSubject: 's', CertIssuerPublicKey: 'old' } } }], want), false);
  assert.equal(rotationConverged([{ Description: {} }], want), false);
});
