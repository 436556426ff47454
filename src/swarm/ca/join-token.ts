// Join tokens, in Docker's format (moby/swarmkit ca/config.go GenerateJoinToken/ParseJoinToken):
//   SWMTKN-1-<sha256 of the root CA PEM, base36, zero-padded to 50>-<16 random bytes, base36, padded to 25>
// A joining node pins the CA by the digest before it trusts any manager; the secret decides the
// role. Rotating a token changes only the secret. SWMTKN-2-<0|1>-... (FIPS clusters) is parsed too.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { caDigest } from './root-ca.js';

/** ceil(log36(2^256)): a sha256 in base36 */
export const TOKEN_DIGEST_LEN = 50;
/** ceil(log36(2^128)): 16 random bytes in base36 */
export const TOKEN_SECRET_LEN = 25;
const SECRET_BYTES = 16;

export interface ParsedJoinToken {
  version: 1 | 2;
  /** SWMTKN-2-1-... marks a cluster that requires FIPS mode */
  fips: boolean;
  /** sha256 of the root CA, 64 lower-case hex chars (what Docker prints as "Expected: ...") */
  caDigest: string;
  secret: string;
}

function base36(bytes: Uint8Array, width: number): string {
  return BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0')).toString(36).padStart(width, '0');
}

export function generateJoinToken(caCertPem: string): string {
  const digest = Buffer.from(caDigest(caCertPem), 'hex');
  return `SWMTKN-1-${base36(digest, TOKEN_DIGEST_LEN)}-${base36(randomBytes(SECRET_BYTES), TOKEN_SECRET_LEN)}`;
}

/** Throws Error('invalid join token') (Docker's message) for anything malformed. */
export function parseJoinToken(token: string): ParsedJoinToken {
  const invalid = () => new Error('invalid join token');
  const parts = String(token).split('-');
  if (parts.length < 4 || parts[0] !== 'SWMTKN') throw invalid();
  let version: 1 | 2;
  let fips = false;
  if (parts[1] === '1' && parts.length === 4) version = 1;
  else if (parts[1] === '2' && parts.length === 5 && (parts[2] === '0' || parts[2] === '1')) { version = 2; fips = parts[2] === '1'; }
  else throw invalid();
  const secret = parts[parts.length - 1]!;
  const digest36 = parts[parts.length - 2]!.toLowerCase();
  if (digest36.length !== TOKEN_DIGEST_LEN || secret.length !== TOKEN_SECRET_LEN) throw invalid();
  // Go's big.Int.SetString accepts either case; anything outside base36, or a value wider than
  // 256 bits, cannot be a sha256 and Docker rejects it too.
  if (!/^[0-9a-z]+$/.test(digest36)) throw invalid();
  let n = 0n;
  for (const ch of digest36) n = n * 36n + BigInt(parseInt(ch, 36));
  const hex = n.toString(16).padStart(64, '0');
  if (hex.length !== 64) throw invalid();
  return { version, fips, caDigest: hex, secret };
}

/** Whether the token names this CA (false for malformed tokens). */
export function tokenMatchesCA(token: string, caCertPem: string): boolean {
  let parsed: ParsedJoinToken;
  try { parsed = parseJoinToken(token); } catch { return false; }
  return timingSafeEqual(Buffer.from(parsed.caDigest, 'hex'), Buffer.from(caDigest(caCertPem), 'hex'));
}

/** Constant-time token comparison, as SwarmKit's CA server does when it checks a joiner's token. */
export function joinTokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}
