import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalCertPem, decodePemBlocks, encodePem, pemToDer } from './pem.js';

test('encodePem writes what Go writes: 64-column base64, LF, trailing newline', () => {
  const der = Buffer.alloc(100, 7);
  const pem = encodePem('CERTIFICATE', der);
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.equal(lines[1]!.length, 64);
  assert.equal(lines[lines.length - 2], '-----END CERTIFICATE-----');
  assert.equal(lines[lines.length - 1], '');
  assert.deepEqual(pemToDer(pem, 'CERTIFICATE'), der);
});

test('headers survive a round trip', () => {
  const pem = encodePem('X KEY', Buffer.from('hello'), { 'Kdf': 'hkdf-sha256', 'Nonce': 'abcd' });
  assert.match(pem, /^-----BEGIN X KEY-----\nKdf: hkdf-sha256\nNonce: abcd\n\naGVsbG8=\n-----END X KEY-----\n$/);
  const [b] = decodePemBlocks(pem);
  assert.deepEqual(b!.headers, { Kdf: 'hkdf-sha256', Nonce: 'abcd' });
  assert.equal(b!.der.toString(), 'hello');
});

test('canonicalCertPem normalises whitespace and keeps every certificate in order', () => {
  const a = encodePem('CERTIFICATE', Buffer.alloc(70, 1));
  const b = encodePem('CERTIFICATE', Buffer.alloc(90, 2));
  // b re-wrapped at 76 columns, as MIME base64 or another tool would
  const b76 = `-----BEGIN CERTIFICATE-----\n${Buffer.alloc(90, 2).toString('base64').replace(/(.{76})/g, '$1\n')}\n-----END CERTIFICATE-----`;
  const messy = `junk before\r\n${a.replace(/\n/g, '\r\n')}\n\n${b76}`;
  assert.equal(canonicalCertPem(messy), a + b);
  assert.throws(() => canonicalCertPem('nothing here'), /no CERTIFICATE/);
  assert.throws(() => pemToDer(a, 'PRIVATE KEY'), /no PRIVATE KEY/);
});
