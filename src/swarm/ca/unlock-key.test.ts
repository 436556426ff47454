import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateUnlockKey, parseUnlockKey, UnlockKeyFormatError } from './unlock-key.js';

test('unlock keys are Docker\'s: SWMKEY-1- + unpadded base64 of 32 random bytes', () => {
  const k = generateUnlockKey();
  assert.match(k, /^SWMKEY-1-[A-Za-z0-9+/]{43}$/);
  assert.equal(parseUnlockKey(k).length, 32);
  assert.notEqual(generateUnlockKey(), k);
  assert.equal(parseUnlockKey(k).toString('base64').replace(/=$/, ''), k.slice(9));
});

test('a key from Docker\'s documentation parses', () => {
  assert.equal(parseUnlockKey('SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8').toString('hex'),
    'edcdfb09cf3ae78a3aa77f079eba32c028b5f699653a71ad6dd64482d2b166ef');
  assert.equal(parseUnlockKey(' SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8\n').length, 32);
});

test('malformed keys: "invalid key string", status 400', () => {
  for (const bad of ['', 'SWMKEY-1-', 'SWMKEY-2-abcd', 'swmkey-1-abcd', 'SWMKEY-1-abc$', 'SWMKEY-1-abcd=', 'SWMKEY-1-a']) {
    assert.throws(() => parseUnlockKey(bad), (e: unknown) => e instanceof UnlockKeyFormatError && e.message === 'invalid key string' && e.statusCode === 400, bad);
  }
});
