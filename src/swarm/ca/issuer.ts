// Which certificate issued a node's leaf, in Docker's TLSInfo terms (the issuer's raw subject and
// SubjectPublicKeyInfo). During a root rotation the issuer is the new root, reached through the
// cross-signed intermediate the node sends along; SwarmKit compares these two fields, not whole
// certificates, to know whether a node holds a certificate from the desired CA.

import { X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from './x509.js';
import { canonicalCertPem, decodePemBlocks } from './pem.js';

export interface IssuerInfo { CertIssuerSubject: string; CertIssuerPublicKey: string }
export interface TLSInfo extends IssuerInfo { TrustRoot: string }

function certsOf(pem: string): Buffer[] {
  try { return decodePemBlocks(pem).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der); } catch { return []; }
}

/** The subject (raw DER) and SPKI of a certificate, base64, as Docker's TLSInfo carries them. */
export function issuerInfoOfCert(der: Buffer | string): IssuerInfo {
  const c = new x509.X509Certificate(typeof der === 'string' ? der : new Uint8Array(der));
  return {
    CertIssuerSubject: Buffer.from(c.subjectName.toArrayBuffer()).toString('base64'),
    CertIssuerPublicKey: Buffer.from(c.publicKey.rawData).toString('base64'),
  };
}

/**
 * The issuer of the first certificate in certPem (a leaf, maybe followed by intermediates), looked
 * for among those intermediates and the trust roots; undefined when none signed it.
 */
export function issuerOf(certPem: string, trustPem: string): IssuerInfo | undefined {
  const [leafDer, ...chain] = certsOf(certPem);
  if (!leafDer) return undefined;
  const leaf = new NodeX509(leafDer);
  for (const der of [...chain, ...certsOf(trustPem)]) {
    try {
      const c = new NodeX509(der);
      if (leaf.checkIssued(c) && leaf.verify(c.publicKey)) return issuerInfoOfCert(der);
    } catch { /* not a certificate we can use */ }
  }
  return undefined;
}

/** A node's Description.TLSInfo: its trust root and the issuer of its certificate. */
export function nodeTlsInfo(certPem: string, trustPem: string): TLSInfo {
  const issuer = issuerOf(certPem, trustPem) ?? { CertIssuerSubject: '', CertIssuerPublicKey: '' };
  return { TrustRoot: canonicalCertPem(trustPem), ...issuer };
}
