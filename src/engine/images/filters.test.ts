import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFilters } from './filters.js';

test('parses the map form, the legacy array form and nothing', () => {
  const a = parseFilters('{"dangling":{"true":true},"label":{"a=b":true,"c":true}}');
  assert.deepEqual(a.get('dangling'), ['true']);
  assert.deepEqual(a.get('label').sort(), ['a=b', 'c']);
  const b = parseFilters('{"reference":["busy*","foo"]}');
  assert.deepEqual(b.get('reference'), ['busy*', 'foo']);
  assert.equal(parseFilters(null).size, 0);
  assert.equal(parseFilters('').size, 0);
  assert.throws(() => parseFilters('{nope'), (e: any) => e.status === 400);
});

test('validate, exactMatch, matchKVList and bool behave like docker', () => {
  const f = parseFilters('{"label":{"a=b":true,"c":true},"dangling":{"true":true}}');
  assert.throws(() => f.validate(['label']), /invalid filter 'dangling'/);
  f.validate(['label', 'dangling']);
  assert.ok(f.exactMatch('dangling', 'true'));
  assert.ok(!f.exactMatch('dangling', 'false'));
  assert.ok(f.exactMatch('absent', 'x'));
  assert.ok(f.matchKVList('label', { a: 'b', c: '' }));
  assert.ok(!f.matchKVList('label', { a: 'x', c: '' }));
  assert.ok(!f.matchKVList('label', { a: 'b' }));
  assert.ok(!f.matchKVList('label', null));
  assert.equal(f.bool('dangling'), true);
  assert.equal(parseFilters('{"dangling":["0"]}').bool('dangling'), false);
  assert.throws(() => parseFilters('{"dangling":["maybe"]}').bool('dangling'), /invalid filter 'dangling=\[maybe\]'/);
});
