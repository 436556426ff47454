import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCA, caDigest } from './root-ca.js';
import { generateJoinToken, joinTokensEqual, parseJoinToken, tokenMatchesCA, TOKEN_DIGEST_LEN, TOKEN_SECRET_LEN } from './join-token.js';

test('token format is Docker\'s: SWMTKN-1-<50 base36>-<25 base36>', async () => {
  const ca = await createRootCA();
  const t = generateJoinToken(ca.certPem);
  assert.match(t, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  assert.equal(TOKEN_DIGEST_LEN, 50);
  assert.equal(TOKEN_SECRET_LEN, 25);
  assert.equal(t.length, 'SWMTKN-1-'.length + 50 + 1 + 25);
  const p = parseJoinToken(t);
  assert.deepEqual({ version: p.version, fips: p.fips }, { version: 1, fips: false });
  assert.equal(p.caDigest, caDigest(ca.certPem), 'the digest part is the CA digest in base36');
  assert.equal(p.secret, t.slice(-25));
});

test('the digest part is the sha256 read as a base36 number (checked against an independent conversion)', () => {
  // Docker's documented example token; hex computed with Python's int(s, 36)
  const p = parseJoinToken('SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx');
  assert.equal(p.caDigest, '9529c6f3c5558ac3ec02b338a52d3c5434e0835a8af6f1e124649e87afaa2fb5');
  assert.equal(p.secret, '1awxwuwd3z9j1z3puu7rcgdbx');
  // left padding: a small number keeps its leading zeros on both sides
  assert.equal(parseJoinToken(`SWMTKN-1-${'0'.repeat(49)}z-${'0'.repeat(25)}`).caDigest, '0'.repeat(62) + '23');
});

test('rotation changes only the secret; a token from another CA does not match', async () => {
  const ca = await createRootCA();
  const other = await createRootCA();
  const a = generateJoinToken(ca.certPem);
  const b = generateJoinToken(ca.certPem);
  assert.notEqual(a, b);
  assert.equal(a.slice(0, 59), b.slice(0, 59));
  assert.equal(tokenMatchesCA(a, ca.certPem), true);
  assert.equal(tokenMatchesCA(a, other.certPem), false);
  assert.equal(tokenMatchesCA(generateJoinToken(other.certPem), ca.certPem), false);
  assert.equal(tokenMatchesCA('garbage', ca.certPem), false);
  // the CA PEM rebuilt with other line endings still matches
  assert.equal(tokenMatchesCA(a, ca.certPem.replace(/\n/g, '\r\n')), true);
});

test('malformed tokens fail with Docker\'s "invalid join token"', () => {
  const d = '1'.repeat(50);
  const s = 'b'.repeat(25);
  parseJoinToken(`SWMTKN-1-${d}-${s}`); // the control: these parts are fine
  for (const bad of [
    '', 'SWMTKN', `SWMTKN-1-${d}`, `SWMTKN-3-${d}-${s}`, `SWMTKX-1-${d}-${s}`, `SWMTKN-1-${d}-${s}-x`,
    `SWMTKN-1-${d.slice(1)}-${s}`, `SWMTKN-1-${d}-${s}c`, `SWMTKN-1-${d.slice(1)}!-${s}`,
    `SWMTKN-2-${d}-${s}`, `SWMTKN-2-7-${d}-${s}`,
    `SWMTKN-1-${'z'.repeat(50)}-${s}`, // wider than 256 bits: not a sha256
  ]) {
    assert.throws(() => parseJoinToken(bad), { message: 'invalid join token' }, bad);
  }
});

test('v2 (FIPS) tokens parse; base36 is case-insensitive like Go\'s big.Int', () => {
  const d = '1'.repeat(50);
  const s = 'b'.repeat(25);
  assert.deepEqual(parseJoinToken(`SWMTKN-2-1-${d}-${s}`).fips, true);
  assert.deepEqual(parseJoinToken(`SWMTKN-2-0-${d}-${s}`).version, 2);
  const mixed = '1'.repeat(40) + 'abcdefghij';
  assert.equal(parseJoinToken(`SWMTKN-1-${mixed.toUpperCase()}-${s}`).caDigest, parseJoinToken(`SWMTKN-1-${mixed}-${s}`).caDigest);
});

test('joinTokensEqual compares whole tokens', () => {
  assert.equal(joinTokensEqual('SWMTKN-1-a-b', 'SWMTKN-1-a-b'), true);
  assert.equal(joinTokensEqual('SWMTKN-1-a-b', 'SWMTKN-1-a-c'), false);
  assert.equal(joinTokensEqual('SWMTKN-1-a-b', 'SWMTKN-1-a-bb'), false);
});
