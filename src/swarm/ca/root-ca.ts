// The swarm's root CA: creating it, loading it as a signer, and the facts other nodes pin it by.
// SwarmKit (ca/certificates.go CreateRootCA): ECDSA P-256, CN=swarm-ca, 20 years, CA:TRUE with
// keyCertSign+cRLSign, both critical.

import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, webcrypto, X509Certificate as NodeX509, type KeyObject } from 'node:crypto';
import * as x509 from './x509.js';
import { CERT_BACKDATE_MS, DAY_MS, ROOT_CA_CN, ROOT_CA_VALIDITY_MS } from './constants.js';
import { canonicalCertPem, encodePem, pemToDer } from './pem.js';

const subtle = webcrypto.subtle;
const wc = webcrypto as unknown as Crypto;

/** What gets stored (in etcd) and handed around: the CA certificate and its private key, as PEM. */
export interface CAKeyPair { certPem: string; keyPem: string }

/** A CA ready to sign: the parsed certificate plus the key imported into WebCrypto. */
export interface LoadedCA {
  /** canonical PEM of the CA certificate (what joiners download and hash) */
  readonly certPem: string;
  readonly cert: x509.X509Certificate;
  /** sha256 (hex) of certPem: the digest join tokens carry */
  readonly digest: string;
  readonly signingKey: CryptoKey;
  readonly signingAlgorithm: Algorithm | EcdsaParams;
}

export interface CreateRootCAOptions {
  commonName?: string;
  /** default 20 years (SwarmKit's RootCAExpiration) */
  validityDays?: number;
  /** for tests */
  now?: Date;
}

/** A random, positive, non-zero 20-byte serial (RFC 5280's upper bound), as hex. */
export function randomSerial(): string {
  const b = randomBytes(20);
  b[0] = (b[0]! & 0x7f) || 0x01;
  return b.toString('hex');
}

/** The WebCrypto import/sign parameters for a CA key; ECDSA P-256/P-384 and RSA (an imported CA may be RSA). */
function signingParams(key: KeyObject): { importAlg: EcKeyImportParams | RsaHashedImportParams; signAlg: Algorithm | EcdsaParams } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    // Go picks the hash by curve size (x509.signingParamsForPublicKey); so do we.
    if (curve === 'prime256v1') return { importAlg: { name: 'ECDSA', namedCurve: 'P-256' }, signAlg: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams };
    if (curve === 'secp384r1') return { importAlg: { name: 'ECDSA', namedCurve: 'P-384' }, signAlg: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams };
    throw new Error(`unsupported CA key curve ${curve}: use P-256 or P-384`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    return { importAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, signAlg: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm };
  }
  throw new Error(`unsupported CA key type ${key.asymmetricKeyType}`);
}

export async function createRootCA(opts: CreateRootCAOptions = {}): Promise<CAKeyPair> {
  const now = opts.now ?? new Date();
  const life = opts.validityDays !== undefined ? opts.validityDays * DAY_MS : ROOT_CA_VALIDITY_MS;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const keys: CryptoKeyPair = {
    privateKey: await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as CryptoKey,
    publicKey: await subtle.importKey('spki', publicKey.export({ format: 'der', type: 'spki' }), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']) as CryptoKey,
  };
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.commonName ?? ROOT_CA_CN] }],
    // Backdated like node certs, so a node whose clock is a little behind still accepts it.
    notBefore: new Date(now.getTime() - CERT_BACKDATE_MS),
    notAfter: new Date(now.getTime() + life),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.BasicConstraintsExtension(true, undefined, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, wc),
    ],
  }, wc);
  return { certPem: encodePem('CERTIFICATE', new Uint8Array(cert.rawData)), keyPem: encodePem('PRIVATE KEY', pkcs8) };
}

/**
 * Parses and checks a CA (the certificate must be a CA and match the key) and imports the key for
 * signing. keyPem may be PKCS#8, SEC1 ("EC PRIVATE KEY") or PKCS#1, as `docker swarm ca --ca-key` allows.
 */
export async function loadCA(certPem: string, keyPem: string): Promise<LoadedCA> {
  const canonical = canonicalCertPem(certPem);
  const first = pemToDer(canonical, 'CERTIFICATE');
  const nodeCert = new NodeX509(first);
  if (!nodeCert.ca) throw new Error('the CA certificate is not a CA (basic constraints CA:TRUE missing)');
  let key: KeyObject;
  try { key = createPrivateKey(keyPem); } catch (e) { throw new Error(`invalid CA key: ${(e as Error).message}`); }
  if (!nodeCert.checkPrivateKey(key)) throw new Error('the CA key does not match the CA certificate');
  const { importAlg, signAlg } = signingParams(key);
  const signingKey = await subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), importAlg, false, ['sign']) as CryptoKey;
  return { certPem: canonical, cert: new x509.X509Certificate(new Uint8Array(first)), digest: caDigest(canonical), signingKey, signingAlgorithm: signAlg };
}

/**
 * sha256 (hex) of the CA certificate PEM. SwarmKit hashes the PEM bundle bytes
 * (ca/certificates.go NewRootCA: digest.FromBytes(rootCertBytes)), not the DER; we hash the
 * canonical re-encoding, which is byte-identical to what Go writes, so stray whitespace or a PEM
 * rebuilt from a TLS peer's DER gives the same digest.
 */
export function caDigest(certPem: string): string {
  return createHash('sha256').update(canonicalCertPem(certPem)).digest('hex');
}

/**
 * Docker's TLSInfo (Swarm.TLSInfo, Node.Description.TLSInfo): the trust root PEM and the issuer's
 * raw subject and SubjectPublicKeyInfo, base64 (DER). For a node, pass the CA that issued its cert.
 */
export function tlsInfo(caCertPem: string): { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string } {
  const canonical = canonicalCertPem(caCertPem);
  const cert = new x509.X509Certificate(new Uint8Array(pemToDer(canonical, 'CERTIFICATE')));
  return {
    TrustRoot: canonical,
    CertIssuerSubject: Buffer.from(cert.subjectName.toArrayBuffer()).toString('base64'),
    CertIssuerPublicKey: Buffer.from(cert.publicKey.rawData).toString('base64'),
  };
}
