// Node certificates: the identity every node presents over mutual TLS.
// Shape follows SwarmKit (ca/certificates.go PrepareCSR + ca/config.go SigningPolicy):
// subject O=<cluster id>, OU=swarm-manager|swarm-worker, CN=<node id>; DNS SANs <OU>, <node id>
// (+ swarm-ca on managers); key usage digitalSignature+keyEncipherment; EKU serverAuth+clientAuth
// (every node is both a TLS client and, for managers, a server); backdated 1 h; 90 days.
// We add IP SANs: etcd peers and clients dial managers by IP and verify the name against them.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from './x509.js';
import {
  CA_SAN, CERT_BACKDATE_MS, DAY_MS, MIN_NODE_CERT_VALIDITY_MS, NODE_CERT_VALIDITY_MS, RENEW_AT_LOWER, RENEW_AT_UPPER,
  ouToRole, roleToOU, type NodeRole,
} from './constants.js';
import { canonicalCertPem, decodePemBlocks, encodePem } from './pem.js';
import { loadCA, randomSerial, type CAKeyPair, type LoadedCA } from './root-ca.js';

const subtle = webcrypto.subtle;
const wc = webcrypto as unknown as Crypto;

export interface NodeKey { keyPem: string; publicKeyPem: string }

/** A fresh ECDSA P-256 node key (PKCS#8 PEM) and its public half (SPKI PEM). */
export function generateNodeKey(): NodeKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    keyPem: encodePem('PRIVATE KEY', privateKey.export({ format: 'der', type: 'pkcs8' })),
    publicKeyPem: encodePem('PUBLIC KEY', publicKey.export({ format: 'der', type: 'spki' })),
  };
}

/** The SPKI PEM of a private key, for a node that has its key and needs to send the public half. */
export function publicKeyPemOf(keyPem: string): string {
  return encodePem('PUBLIC KEY', createPublicKey(keyPem).export({ format: 'der', type: 'spki' }));
}

/**
 * A PKCS#10 request signed by keyPem: proof that the requester holds the key. The CA takes only the
 * public key from it (SwarmKit's CSRWhitelist); the subject is set from the CA's own decision.
 */
export async function createCsr(keyPem: string, opts: { commonName?: string } = {}): Promise<string> {
  const priv = createPrivateKey(keyPem);
  if (priv.asymmetricKeyType !== 'ec' || priv.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('node keys are ECDSA P-256');
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys: CryptoKeyPair = {
    privateKey: await subtle.importKey('pkcs8', priv.export({ format: 'der', type: 'pkcs8' }), alg, false, ['sign']) as CryptoKey,
    publicKey: await subtle.importKey('spki', createPublicKey(priv).export({ format: 'der', type: 'spki' }), alg, true, ['verify']) as CryptoKey,
  };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: opts.commonName ? [{ CN: [opts.commonName] }] : [],
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
  }, wc);
  return encodePem('CERTIFICATE REQUEST', new Uint8Array(csr.rawData));
}

export interface IssueNodeCertOptions {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  /** the node's public key (SPKI PEM); or give csrPem instead */
  publicKeyPem?: string;
  /** a PKCS#10 request; its signature is checked, only its public key is used */
  csrPem?: string;
  /** IP SANs (the node's advertise / etcd addresses) */
  ips?: string[];
  /** extra DNS SANs */
  dnsNames?: string[];
  /** default 90 days; below 1 hour the default applies (SwarmKit's SigningPolicy) */
  validityDays?: number;
  /** the same in milliseconds (Docker's NodeCertExpiry is a duration); wins over validityDays */
  validityMs?: number;
  /** shortest validity honoured (default 1 hour, SwarmKit's floor); shoal lowers it only for tests */
  minValidityMs?: number;
  /** how far notBefore lies in the past (default 1 hour); tests with seconds-long certs use 0 */
  backdateMs?: number;
  /** intermediates to send after the leaf (the cross-signed root during a root rotation) */
  chainPem?: string;
  /** for tests */
  now?: Date;
}

/** Node keys we accept: what SwarmKit's CA would sign (ECDSA P-256/P-384, RSA ≥ 2048). */
function checkNodePublicKey(k: KeyObject): void {
  const d = k.asymmetricKeyDetails;
  if (k.asymmetricKeyType === 'ec' && (d?.namedCurve === 'prime256v1' || d?.namedCurve === 'secp384r1')) return;
  if (k.asymmetricKeyType === 'rsa' && (d?.modulusLength ?? 0) >= 2048) return;
  throw new Error(`unsupported node key: ${k.asymmetricKeyType} ${d?.namedCurve ?? d?.modulusLength ?? ''}`.trim());
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return new Uint8Array(b).buffer;
}

/** The requested public key as SPKI DER. */
async function requestedPublicKey(o: IssueNodeCertOptions): Promise<ArrayBuffer> {
  if (o.csrPem) {
    let csr: x509.Pkcs10CertificateRequest;
    try { csr = new x509.Pkcs10CertificateRequest(o.csrPem); } catch { throw new Error('invalid CSR'); }
    if (!(await csr.verify(wc))) throw new Error('invalid CSR: signature does not verify');
    const spki = Buffer.from(csr.publicKey.rawData);
    checkNodePublicKey(createPublicKey({ key: spki, format: 'der', type: 'spki' }));
    return toArrayBuffer(spki);
  }
  if (!o.publicKeyPem) throw new Error('a public key or CSR is required');
  let k: KeyObject;
  try { k = createPublicKey(o.publicKeyPem); } catch { throw new Error('invalid public key'); }
  checkNodePublicKey(k);
  return toArrayBuffer(k.export({ format: 'der', type: 'spki' }));
}

function validityMs(o: IssueNodeCertOptions): number {
  const ms = o.validityMs ?? (o.validityDays !== undefined ? o.validityDays * DAY_MS : NODE_CERT_VALIDITY_MS);
  return ms >= (o.minValidityMs ?? MIN_NODE_CERT_VALIDITY_MS) ? ms : NODE_CERT_VALIDITY_MS;
}

/** Signs a node certificate; returns its PEM. ca is a loaded CA or the stored PEM pair. */
export async function issueNodeCert(ca: LoadedCA | CAKeyPair, o: IssueNodeCertOptions): Promise<string> {
  const signer = 'signingKey' in ca ? ca : await loadCA(ca.certPem, ca.keyPem);
  for (const [k, v] of [['nodeId', o.nodeId], ['clusterId', o.clusterId]] as const) {
    if (!v || !/^[A-Za-z0-9._-]+$/.test(v)) throw new Error(`invalid ${k} ${JSON.stringify(v)}`);
  }
  if (o.role !== 'manager' && o.role !== 'worker') throw new Error(`invalid role ${JSON.stringify(o.role)}`);
  for (const ip of o.ips ?? []) if (!isIP(ip)) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
  const spki = await requestedPublicKey(o);
  const ou = roleToOU(o.role);
  const dns = [...new Set([ou, o.nodeId, ...(o.role === 'manager' ? [CA_SAN] : []), ...(o.dnsNames ?? [])])];
  const ips = [...new Set(o.ips ?? [])];
  const now = (o.now ?? new Date()).getTime();
  const caSki = signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ O: [o.clusterId] }, { OU: [ou] }, { CN: [o.nodeId] }],
    // The issuer bytes are copied from the CA's subject so chain building matches them exactly.
    issuer: new x509.Name(signer.cert.subjectName.toArrayBuffer()),
    notBefore: new Date(now - (o.backdateMs ?? CERT_BACKDATE_MS)),
    notAfter: new Date(now + validityMs(o)),
    publicKey: spki,
    signingKey: signer.signingKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(spki, false, wc),
      ...(caSki ? [new x509.AuthorityKeyIdentifierExtension(caSki.keyId)] : []),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  }, wc);
  return encodePem('CERTIFICATE', new Uint8Array(cert.rawData)) + (o.chainPem ? canonicalCertPem(o.chainPem) : '');
}

/** Generates a key and signs a cert for it: the CA's own node, or tests. */
export async function issueNodeKeyAndCert(ca: LoadedCA | CAKeyPair, o: Omit<IssueNodeCertOptions, 'publicKeyPem' | 'csrPem'>): Promise<{ certPem: string; keyPem: string }> {
  const key = generateNodeKey();
  return { certPem: await issueNodeCert(ca, { ...o, publicKeyPem: key.publicKeyPem }), keyPem: key.keyPem };
}

export interface NodeCertInfo {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  notBefore: Date;
  notAfter: Date;
  /** lower-case hex, no separators */
  serial: string;
  dnsNames: string[];
  ips: string[];
  /** issuer DN as text, e.g. "CN=swarm-ca" */
  issuer: string;
}

/** Reads a node certificate back; throws when it is not a swarm node certificate. */
export function parseNodeCert(certPem: string): NodeCertInfo {
  const cert = new x509.X509Certificate(certPem);
  const field = (n: string) => cert.subjectName.getField(n)[0];
  const nodeId = field('CN');
  const ou = field('OU');
  const clusterId = field('O');
  const role = ouToRole(ou);
  if (!nodeId || !clusterId || !role) throw new Error(`not a swarm node certificate: ${cert.subject}`);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san?.names.items ?? [];
  return {
    nodeId, role, clusterId,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    serial: cert.serialNumber.toLowerCase(),
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ips: names.filter((n) => n.type === 'ip').map((n) => n.value),
    issuer: cert.issuer,
  };
}

/**
 * Whether certPem was signed by one of the CA certificates (a list, or PEM bundles, so that old and
 * new roots both count during a rotation). With `at`, the cert must also be valid at that time.
 */
export function verifyIssuedBy(certPem: string, caCertPems: string | string[], opts: { at?: Date } = {}): boolean {
  let leaf: NodeX509;
  try { leaf = new NodeX509(certPem); } catch { return false; }
  if (opts.at) {
    const t = opts.at.getTime();
    if (t < Date.parse(leaf.validFrom) || t > Date.parse(leaf.validTo)) return false;
  }
  const blocks = (Array.isArray(caCertPems) ? caCertPems : [caCertPems]).flatMap((p) => decodePemBlocks(p)).filter((b) => b.label === 'CERTIFICATE');
  return blocks.some((b) => {
    try {
      const ca = new NodeX509(b.der);
      return ca.ca && leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
    } catch { return false; }
  });
}

/**
 * When this certificate should be renewed: a point between 50 % and 80 % of its life (SwarmKit
 * renews at a random point there so a cluster's nodes do not all renew at once). The point is drawn
 * from the serial, so it is random across nodes yet stable for one cert (restarts do not move it).
 */
export function renewalTime(cert: string | Pick<NodeCertInfo, 'notBefore' | 'notAfter' | 'serial'>): Date {
  const c = typeof cert === 'string' ? parseNodeCert(cert) : cert;
  const u = createHash('sha256').update(c.serial).digest().readUInt32BE(0) / 2 ** 32;
  const frac = RENEW_AT_LOWER + (RENEW_AT_UPPER - RENEW_AT_LOWER) * u;
  const from = c.notBefore.getTime();
  return new Date(from + Math.floor((c.notAfter.getTime() - from) * frac));
}

/** True once renewalTime has passed (also for an expired cert: it needs renewing all the more). */
export function renewalDue(cert: string | Pick<NodeCertInfo, 'notBefore' | 'notAfter' | 'serial'>, now: Date = new Date()): boolean {
  return now.getTime() >= renewalTime(cert).getTime();
}
