import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ellipsis, goQuote, indentJson, parseGoDuration, rfc3339NanoFixed, timestampParam, truncateId } from './util.js';

process.env.TZ = 'UTC';

test('ids, ellipsis, quoting', () => {
  assert.equal(truncateId('sha256:0123456789abcdef0123'), '0123456789ab');
  assert.equal(truncateId('abc'), 'abc');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('0123456789abcdefghijklmnop', 20), '0123456789abcdefghi…');
  assert.equal(ellipsis('日本語テキストです', 8), '日本語…');
  assert.equal(goQuote('a "b"\n\\'), '"a \\"b\\"\\n\\\\"');
});

test('indentJson keeps the raw values and indents like json.Indent', () => {
  assert.equal(indentJson('[{"a":1,"b":[],"c":{},"d":"x\\"y,z:{"}]'), '[\n    {\n        "a": 1,\n        "b": [],\n        "c": {},\n        "d": "x\\"y,z:{"\n    }\n]');
  assert.equal(indentJson('{"n":12345678901234567890}'), '{\n    "n": 12345678901234567890\n}');
});

test('durations and timestamps', () => {
  assert.equal(parseGoDuration('1h30m'), 5_400_000);
  assert.equal(parseGoDuration('500ms'), 500);
  assert.equal(parseGoDuration('abc'), undefined);
  const now = Date.UTC(2026, 0, 1, 0, 10, 0);
  assert.equal(timestampParam('10m', now), `${Date.UTC(2026, 0, 1) / 1000}.000000000`);
  assert.equal(timestampParam('1700000000'), '1700000000');
  assert.equal(timestampParam('2026-01-01T00:00:00Z'), `${Date.UTC(2026, 0, 1) / 1000}.000000000`);
  assert.equal(timestampParam('2026-01-01T00:00:00.5Z'), `${Date.UTC(2026, 0, 1) / 1000}.500000000`);
  assert.equal(timestampParam(undefined), undefined);
  assert.throws(() => timestampParam('yesterday-ish'), /failed to parse value as time or duration/);
  assert.equal(rfc3339NanoFixed(1795524570151371123n), '2026-11-24T12:49:30.151371123Z');
});

test('image references', async () => {
  const { validateReference, splitRef, tagNameOnly } = await import('./commands/shared.js');
  for (const ok of ['busybox', 'busybox:1.36', 'localhost:5000/a/b:c', 'Registry.Example.com/a', 'a@sha256:abc', 'sha256:0036fed5fda9']) assert.doesNotThrow(() => validateReference(ok), ok);
  assert.throws(() => validateReference('Busybox'), /^Error: invalid reference format: repository name \(library\/Busybox\) must be lowercase$/);
  assert.throws(() => validateReference('a//b'), /^Error: invalid reference format$/);
  assert.deepEqual(splitRef('localhost:5000/a:v1'), { repo: 'localhost:5000/a', tag: 'v1' });
  assert.deepEqual(splitRef('localhost:5000/a'), { repo: 'localhost:5000/a' });
  assert.equal(tagNameOnly('docker.io/library/busybox'), 'busybox:latest');
  assert.equal(tagNameOnly('x/y:1'), 'x/y:1');
});
