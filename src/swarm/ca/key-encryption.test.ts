import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { decryptPrivateKey, encryptPrivateKey, InvalidUnlockKeyError, isEncryptedPrivateKey } from './key-encryption.js';
import { generateNodeKey } from './node-cert.js';
import { generateUnlockKey, parseUnlockKey, UnlockKeyFormatError } from './unlock-key.js';

test('a node key encrypted under the unlock key comes back only with that key', () => {
  const { keyPem } = generateNodeKey();
  const kek = generateUnlockKey();
  const blob = encryptPrivateKey(keyPem, kek);
  assert.ok(isEncryptedPrivateKey(blob));
  assert.ok(!isEncryptedPrivateKey(keyPem));
  assert.doesNotMatch(blob, /BEGIN PRIVATE KEY/);
  const body = keyPem.split('\n').slice(1, -2).join('');
  assert.ok(!blob.replace(/\n/g, '').includes(body.slice(10, 40)), 'the key material is not in the clear');
  assert.throws(() => createPrivateKey(blob), 'unreadable as a key without decryption');
  const back = decryptPrivateKey(blob, kek);
  assert.equal(back, keyPem);
  createPrivateKey(back);
  // raw key bytes work the same as the string form
  assert.equal(decryptPrivateKey(blob, parseUnlockKey(kek)), keyPem);
  // fresh salt and nonce each time
  assert.notEqual(encryptPrivateKey(keyPem, kek), blob);
});

test('the blob records its KDF and cipher parameters', () => {
  const blob = encryptPrivateKey(generateNodeKey().keyPem, generateUnlockKey());
  assert.match(blob, /^-----BEGIN SHOAL ENCRYPTED PRIVATE KEY-----\nKdf: hkdf-sha256\nKdf-Salt: [0-9a-f]{32}\nKdf-Info: .+\nCipher: aes-256-gcm\nNonce: [0-9a-f]{24}\n\n/);
});

test('a wrong unlock key fails with Docker\'s message (401)', () => {
  const blob = encryptPrivateKey(generateNodeKey().keyPem, generateUnlockKey());
  assert.throws(() => decryptPrivateKey(blob, generateUnlockKey()),
    (e: unknown) => e instanceof InvalidUnlockKeyError && e.message === 'swarm could not be unlocked: invalid key provided' && e.statusCode === 401);
  assert.throws(() => decryptPrivateKey(blob, 'SWMKEY-1-not*base64'), UnlockKeyFormatError);
});

test('tampering is detected: body, or a header (the headers are authenticated)', () => {
  const kek = generateUnlockKey();
  const blob = encryptPrivateKey(generateNodeKey().keyPem, kek);
  const lines = blob.split('\n');
  const i = lines.findIndex((l) => l === '') + 1;
  const flipped = [...lines];
  flipped[i] = (flipped[i]![0] === 'A' ? 'B' : 'A') + flipped[i]!.slice(1);
  assert.throws(() => decryptPrivateKey(flipped.join('\n'), kek), InvalidUnlockKeyError);
  const info = blob.replace(/Kdf-Info: .*/, 'Kdf-Info: something else');
  assert.throws(() => decryptPrivateKey(info, kek), InvalidUnlockKeyError);
  assert.throws(() => decryptPrivateKey(blob.replace('aes-256-gcm', 'aes-128-gcm'), kek), /unsupported key encryption/);
  assert.throws(() => decryptPrivateKey('-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n', kek), /not an encrypted private key/);
});
