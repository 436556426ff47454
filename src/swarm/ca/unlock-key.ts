// The autolock unlock key (the managers' KEK), in Docker's human-readable form
// (moby/swarmkit manager/encryption HumanReadableKey): "SWMKEY-1-" + unpadded base64 of 32 random bytes.

import { randomBytes } from 'node:crypto';

export const UNLOCK_KEY_PREFIX = 'SWMKEY-1-';
const KEY_BYTES = 32;

/** A key string Docker would not accept; Docker answers 400 with "invalid key string". */
export class UnlockKeyFormatError extends Error {
  readonly statusCode = 400;
  constructor() { super('invalid key string'); this.name = 'UnlockKeyFormatError'; }
}

export function generateUnlockKey(): string {
  return UNLOCK_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64').replace(/=+$/, '');
}

/**
 * The key bytes of "SWMKEY-1-...". Surrounding whitespace is ignored (Go's base64 decoder skips
 * newlines, so a pasted key with a line end works there too); the base64 must be unpadded, as Go's
 * RawStdEncoding requires.
 */
export function parseUnlockKey(key: string): Buffer {
  const s = String(key).trim();
  if (!s.startsWith(UNLOCK_KEY_PREFIX)) throw new UnlockKeyFormatError();
  const b64 = s.slice(UNLOCK_KEY_PREFIX.length);
  if (!b64 || !/^[A-Za-z0-9+/]+$/.test(b64) || b64.length % 4 === 1) throw new UnlockKeyFormatError();
  return Buffer.from(b64, 'base64');
}
