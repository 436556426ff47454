// Autolock: a node's private key at rest, encrypted under the unlock key (KEK).
// Docker wraps the TLS key in legacy PEM encryption (RFC 1423, AES-256-CBC, MD5 key derivation);
// we keep its idea (a PEM block whose headers say how it was encrypted) with a modern AEAD:
//   key   = HKDF-SHA256(unlock key bytes, random 16-byte salt, info) -> 32 bytes
//   data  = AES-256-GCM(key, random 12-byte nonce, the key PEM text; AAD = the headers)
// HKDF rather than scrypt: the unlock key is 32 random bytes, not a password, so stretching would
// only slow unlocking without adding strength. The headers are authenticated, so changing a
// parameter makes decryption fail instead of silently deriving another key.

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { decodePemBlocks, encodePem } from './pem.js';
import { parseUnlockKey } from './unlock-key.js';

export const ENCRYPTED_KEY_LABEL = 'SHOAL ENCRYPTED PRIVATE KEY';
const KDF = 'hkdf-sha256';
const CIPHER = 'aes-256-gcm';
const INFO = 'shoal swarm node key v1';
const TAG_BYTES = 16;

/** Wrong unlock key (or a damaged blob). Docker's text and status (401, errdefs.Unauthorized). */
export class InvalidUnlockKeyError extends Error {
  readonly statusCode = 401;
  constructor() { super('swarm could not be unlocked: invalid key provided'); this.name = 'InvalidUnlockKeyError'; }
}

function keyBytes(unlockKey: string | Uint8Array): Buffer {
  return typeof unlockKey === 'string' ? parseUnlockKey(unlockKey) : Buffer.from(unlockKey);
}

function aad(h: Record<string, string>): Buffer {
  return Buffer.from(['Kdf', 'Kdf-Salt', 'Kdf-Info', 'Cipher', 'Nonce'].map((k) => `${k}: ${h[k] ?? ''}\n`).join(''));
}

function derive(kek: Buffer, salt: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, salt, info, 32));
}

/** Encrypts a private key PEM under the unlock key ("SWMKEY-1-..." or its raw bytes). */
export function encryptPrivateKey(keyPem: string, unlockKey: string | Uint8Array): string {
  const kek = keyBytes(unlockKey);
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const headers = { 'Kdf': KDF, 'Kdf-Salt': salt.toString('hex'), 'Kdf-Info': INFO, 'Cipher': CIPHER, 'Nonce': nonce.toString('hex') };
  const c = createCipheriv(CIPHER, derive(kek, salt, INFO), nonce, { authTagLength: TAG_BYTES });
  c.setAAD(aad(headers));
  const data = Buffer.concat([c.update(keyPem, 'utf8'), c.final(), c.getAuthTag()]);
  return encodePem(ENCRYPTED_KEY_LABEL, data, headers);
}

export function isEncryptedPrivateKey(pem: string): boolean {
  return pem.includes(`-----BEGIN ${ENCRYPTED_KEY_LABEL}-----`);
}

/**
 * The key PEM back. A wrong key throws InvalidUnlockKeyError; a malformed unlock key string throws
 * UnlockKeyFormatError ("invalid key string"); a blob we cannot read at all throws a plain Error.
 */
export function decryptPrivateKey(blob: string, unlockKey: string | Uint8Array): string {
  const kek = keyBytes(unlockKey);
  const block = decodePemBlocks(blob).find((b) => b.label === ENCRYPTED_KEY_LABEL);
  if (!block) throw new Error('not an encrypted private key');
  const h = block.headers;
  if (h['Kdf'] !== KDF || h['Cipher'] !== CIPHER) throw new Error(`unsupported key encryption ${h['Kdf']}/${h['Cipher']}`);
  const salt = Buffer.from(h['Kdf-Salt'] ?? '', 'hex');
  const nonce = Buffer.from(h['Nonce'] ?? '', 'hex');
  if (salt.length < 16 || nonce.length !== 12 || block.der.length <= TAG_BYTES) throw new Error('damaged encrypted private key');
  const d = createDecipheriv(CIPHER, derive(kek, salt, h['Kdf-Info'] ?? ''), nonce, { authTagLength: TAG_BYTES });
  d.setAAD(aad(h));
  d.setAuthTag(block.der.subarray(block.der.length - TAG_BYTES));
  try {
    return Buffer.concat([d.update(block.der.subarray(0, block.der.length - TAG_BYTES)), d.final()]).toString('utf8');
  } catch {
    throw new InvalidUnlockKeyError();
  }
}
