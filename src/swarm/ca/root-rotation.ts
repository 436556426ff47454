// Root CA rotation (SwarmKit's `docker swarm ca --rotate`): the new root is cross-signed by the old
// one, so that leaf certificates issued by the new key, sent with the cross-signed certificate as
// intermediate, verify against the old root while nodes still trust only that; and the checks
// SwarmKit applies to a root CA the user brings (controlapi/ca_rotation.go).

import { X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import * as x509 from './x509.js';
import { YEAR_MS } from './constants.js';
import { canonicalCertPem, decodePemBlocks, encodePem } from './pem.js';
import { loadCA, randomSerial, type CAKeyPair, type LoadedCA } from './root-ca.js';

const wc = webcrypto as unknown as Crypto;

/**
 * A certificate with the new root's subject, public key, key identifier, validity and CA
 * extensions, issued and signed by the old root (its AKI names the old key, so chain builders can
 * tell the two CNs apart even when both are "swarm-ca").
 */
export async function crossSignRootCA(oldCa: LoadedCA | CAKeyPair, newRootPem: string): Promise<string> {
  const signer = 'signingKey' in oldCa ? oldCa : await loadCA(oldCa.certPem, oldCa.keyPem);
  const target = new x509.X509Certificate(canonicalCertPem(newRootPem).split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
  const oldSki = signer.cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const newSki = target.getExtension(x509.SubjectKeyIdentifierExtension)
    ?? await x509.SubjectKeyIdentifierExtension.create(target.publicKey, false, wc);
  const ku = target.getExtension(x509.KeyUsagesExtension);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: new x509.Name(target.subjectName.toArrayBuffer()),
    issuer: new x509.Name(signer.cert.subjectName.toArrayBuffer()),
    notBefore: target.notBefore,
    notAfter: target.notAfter,
    publicKey: target.publicKey,
    signingKey: signer.signingKey,
    signingAlgorithm: signer.signingAlgorithm,
    extensions: [
      new x509.KeyUsagesExtension(ku?.usages ?? (x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign), true),
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectKeyIdentifierExtension(newSki.keyId, false),
      ...(oldSki ? [new x509.AuthorityKeyIdentifierExtension(oldSki.keyId)] : []),
    ],
  }, wc);
  return encodePem('CERTIFICATE', new Uint8Array(cert.rawData));
}

/** An error whose message is SwarmKit's; the API answers it with 400 (gRPC InvalidArgument). */
export class InvalidCAError extends Error {
  readonly statusCode = 400;
}

/**
 * Checks a root CA given with `--ca-cert/--ca-key` the way SwarmKit does and returns its canonical
 * PEM: exactly one certificate, a CA, matching the key, valid for at least a year more.
 */
export async function checkSigningCA(certPem: string, keyPem: string, now = new Date()): Promise<string> {
  let certs: { der: Buffer }[];
  try { certs = decodePemBlocks(certPem).filter((b) => b.label === 'CERTIFICATE'); } catch { certs = []; }
  if (!certs.length) throw new InvalidCAError('could not parse the desired CA certificate');
  if (certs.length !== 1) throw new InvalidCAError('the desired CA certificate cannot contain multiple certificates');
  let cert: NodeX509;
  try { cert = new NodeX509(certs[0]!.der); } catch { throw new InvalidCAError('could not parse the desired CA certificate'); }
  try { await loadCA(certPem, keyPem); } catch (e) {
    const msg = (e as Error).message;
    throw new InvalidCAError(/does not match/.test(msg) ? 'certificate key mismatch' : msg);
  }
  if (Date.parse(cert.validTo) < now.getTime() + YEAR_MS) throw new InvalidCAError('CA certificate expires too soon');
  return canonicalCertPem(certPem);
}

/** Whether two PEM certificates hold the same public key (SwarmKit refuses to rotate to the same key). */
export function samePublicKey(aPem: string, bPem: string): boolean {
  try {
    const a = new NodeX509(aPem).publicKey.export({ format: 'der', type: 'spki' });
    const b = new NodeX509(bPem).publicKey.export({ format: 'der', type: 'spki' });
    return a.equals(b);
  } catch { return false; }
}
