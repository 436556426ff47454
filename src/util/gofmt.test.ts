import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFloat, formatValue, goJSON, goQuote, goTypeName, sprint, sprintf, sprintln } from './gofmt.js';

test('formatFloat %g with precision rounds the exact binary value, ties to even', () => {
  assert.equal(formatFloat(1.2345, 'g', 3), '1.23');
  assert.equal(formatFloat(1.125, 'g', 3), '1.12');
  assert.equal(formatFloat(1.135, 'g', 3), '1.14');
  assert.equal(formatFloat(999.999, 'g', 3), '1e+03');
  assert.equal(formatFloat(999.999, 'g', 4), '1000');
  assert.equal(formatFloat(100, 'g', 3), '100');
  assert.equal(formatFloat(1000, 'g', 3), '1e+03');
  assert.equal(formatFloat(0, 'g', 3), '0');
  assert.equal(formatFloat(4.1, 'g', 3), '4.1');
  assert.equal(formatFloat(0.00012345, 'g', 2), '0.00012');
  assert.equal(formatFloat(0.000012345, 'g', 2), '1.2e-05');
  assert.equal(formatFloat(5, 'g', 0), '5');
});

test('formatFloat shortest %g switches to exponent form at 1e-4 / 1e6 like Go', () => {
  assert.equal(formatFloat(1234567, 'g'), '1.234567e+06');
  assert.equal(formatFloat(100000, 'g'), '100000');
  assert.equal(formatFloat(1e6, 'g'), '1e+06');
  assert.equal(formatFloat(0.0001, 'g'), '0.0001');
  assert.equal(formatFloat(0.00001, 'g'), '1e-05');
  assert.equal(formatFloat(0.1 + 0.2, 'g'), '0.30000000000000004');
  assert.equal(formatFloat(-1.5, 'g'), '-1.5');
  assert.equal(formatFloat(1e21, 'g'), '1e+21');
  assert.equal(formatFloat(0, 'g'), '0');
  assert.equal(formatFloat(NaN, 'g'), 'NaN');
  assert.equal(formatFloat(Infinity, 'g'), '+Inf');
  assert.equal(formatFloat(-Infinity, 'f', 2), '-Inf');
});

test('formatFloat %f and %e', () => {
  assert.equal(formatFloat(2.5, 'f', 0), '2');
  assert.equal(formatFloat(3.5, 'f', 0), '4');
  assert.equal(formatFloat(0.5, 'f', 0), '0');
  assert.equal(formatFloat(1.005, 'f', 2), '1.00');
  assert.equal(formatFloat(0.125, 'f', 2), '0.12');
  assert.equal(formatFloat(0.375, 'f', 2), '0.38');
  assert.equal(formatFloat(0.001, 'f', 1), '0.0');
  assert.equal(formatFloat(0.06, 'f', 1), '0.1');
  assert.equal(formatFloat(1234.5678, 'f', 6), '1234.567800');
  assert.equal(formatFloat(1234.5678, 'e', 6), '1.234568e+03');
  assert.equal(formatFloat(123.456, 'e', 2), '1.23e+02');
  assert.equal(formatFloat(123.456, 'E', 2), '1.23E+02');
  assert.equal(formatFloat(0, 'e', 2), '0.00e+00');
  assert.equal(formatFloat(1e-10, 'e', 1), '1.0e-10');
  assert.equal(formatFloat(1e100, 'e', 0), '1e+100');
  assert.equal(formatFloat(1.5, 'f'), '1.5');
});

test('sprintf: integers, widths and flags', () => {
  assert.equal(sprintf('%5d|%-5d|%05d', 42, 42, 42), '   42|42   |00042');
  assert.equal(sprintf('%x %X %o %b', 255, 255, 8, 5), 'ff FF 10 101');
  assert.equal(sprintf('%#x %#o %O', 255, 8, 8), '0xff 010 0o10');
  assert.equal(sprintf('%+d % d %d', 5, 5, -5), '+5  5 -5');
  assert.equal(sprintf('%05d', -42), '-0042');
  assert.equal(sprintf('%.3d|%.0d|', 7, 0), '007||');
  assert.equal(sprintf('%c%c', 72, 0x1f600), 'H😀');
  assert.equal(sprintf('%q', 97), `'a'`);
  assert.equal(sprintf('%U', 0x1f600), 'U+1F600');
  assert.equal(sprintf('%*d|%-*d|', 4, 1, 3, 2), '   1|2  |');
  assert.equal(sprintf('%v', 12345678901234), '12345678901234');
});

test('sprintf: floats', () => {
  assert.equal(sprintf('%.2f', 3.14159), '3.14');
  assert.equal(sprintf('%6.2f|', 3.14159), '  3.14|');
  assert.equal(sprintf('%08.3f', -3.14159), '-003.142');
  assert.equal(sprintf('%+.1f', 2.25), '+2.2');
  assert.equal(sprintf('%e', 1234.5678), '1.234568e+03');
  assert.equal(sprintf('%g', 0.000012345), '1.2345e-05');
  assert.equal(sprintf('%v', 1.5), '1.5');
  assert.equal(sprintf('%.2f%%', 12.3456), '12.35%');
  assert.equal(sprintf('%d', 3.5), '%!d(float64=3.5)');
  assert.equal(sprintf('%f', 3), '3.000000'); // JS can't tell 3 from 3.0
  assert.equal(sprintf('%5.1f|%-7v|', NaN, Infinity), '  NaN|+Inf   |');
});

test('sprintf: strings', () => {
  assert.equal(sprintf('%s-%v', 'a', 'b'), 'a-b');
  assert.equal(sprintf('%10.3s|', 'abcdef'), '       abc|');
  assert.equal(sprintf('%-8s|', 'ab'), 'ab      |');
  assert.equal(sprintf('%q', 'a"b\n'), '"a\\"b\\n"');
  assert.equal(sprintf('%#q', 'a"b'), '`a"b`');
  assert.equal(sprintf('%+q', 'é'), '"\\u00e9"');
  assert.equal(sprintf('%x|% x|%#x|%X', 'hi', 'hi', 'hi', 'hi'), '6869|68 69|0x6869|6869');
  assert.equal(sprintf('%5s|', '日本'), '   日本|');
  assert.equal(sprintf('%t %v', true, false), 'true false');
});

test('sprintf: composite values and type names', () => {
  assert.equal(sprintf('%v %v', [1, 'a'], null), '[1 a] <nil>');
  assert.equal(sprintf('%s', ['a', 'b']), '[a b]');
  assert.equal(sprintf('%q', ['a', 'b']), '["a" "b"]');
  assert.equal(sprintf('%d', [1, 2]), '[1 2]');
  assert.equal(sprintf('%v', { b: 2, a: [1, null] }), 'map[a:[1 <nil>] b:2]');
  assert.equal(sprintf('%T %T %T %T %T %T', 1, 's', 1.5, true, [], null), 'int string float64 bool []interface {} <nil>');
  assert.equal(goTypeName({}), 'map[string]interface {}');
});

test('sprintf: Go error notation for bad verbs and argument counts', () => {
  assert.equal(sprintf('%d', 'x'), '%!d(string=x)');
  assert.equal(sprintf('%s', 3), '%!s(int=3)');
  assert.equal(sprintf('%5d', 'ab'), '%!d(string=   ab)');
  assert.equal(sprintf('%s', null), '%!s(<nil>)');
  assert.equal(sprintf('%t', 1), '%!t(int=1)');
  assert.equal(sprintf('%s'), '%!s(MISSING)');
  assert.equal(sprintf('%s %d', 'a'), 'a %!d(MISSING)');
  assert.equal(sprintf('%s', 'a', 'b', 3), 'a%!(EXTRA string=b, int=3)');
  assert.equal(sprintf('abc%'), 'abc%!(NOVERB)');
  assert.equal(sprintf('%%'), '%');
  assert.equal(sprintf('%z', 1), '%!z(int=1)');
});

test('sprint / sprintln spacing rules', () => {
  assert.equal(sprint('a', 1, 2, 'b'), 'a1 2b');
  assert.equal(sprint(1, 2), '1 2');
  assert.equal(sprint('a', 'b'), 'ab');
  assert.equal(sprint(null, true), '<nil> true');
  assert.equal(sprintln('a', 1), 'a 1\n');
  assert.equal(sprintln(), '\n');
});

test('formatValue prints like fmt %v', () => {
  assert.equal(formatValue('x'), 'x');
  assert.equal(formatValue(42), '42');
  assert.equal(formatValue(-0), '0');
  assert.equal(formatValue(1234567.5), '1.2345675e+06');
  assert.equal(formatValue(0.1), '0.1');
  assert.equal(formatValue(null), '<nil>');
  assert.equal(formatValue([]), '[]');
  assert.equal(formatValue({}), 'map[]');
  assert.equal(formatValue(new Map([['b', 1], ['a', null]])), 'map[a:<nil> b:1]');
  assert.equal(formatValue([[1, 2], { k: 'v' }]), '[[1 2] map[k:v]]');
  assert.equal(formatValue(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 500))), '2024-01-02 03:04:05.5 +0000 UTC');
  assert.equal(formatValue(new Error('boom')), 'boom');
  class Port { toString() { return '80/tcp'; } }
  assert.equal(formatValue(new Port()), '80/tcp');
  assert.equal(formatValue(10n), '10');
});

test('goQuote is strconv.Quote', () => {
  assert.equal(goQuote('héllo\x00\t'), '"héllo\\x00\\t"');
  assert.equal(goQuote('\u00a0\x7f'), '"\\u00a0\\x7f"');
  assert.equal(goQuote('\u{10ffff}'), '"\\U0010ffff"');
  assert.equal(goQuote('a\\b'), '"a\\\\b"');
  assert.equal(goQuote('😀', true), '"\\U0001f600"');
});

test('goJSON is encoding/json without HTML escaping', () => {
  assert.equal(goJSON({ a: '<b>&', n: 1, f: 1.5, t: true, z: null, l: [1, 'x'] }), '{"a":"<b>&","n":1,"f":1.5,"t":true,"z":null,"l":[1,"x"]}');
  assert.equal(goJSON('\u2028\u2029\n\x01'), '"\\u2028\\u2029\\n\\u0001"');
  assert.equal(goJSON(undefined), 'null');
  assert.equal(goJSON([]), '[]');
  assert.equal(goJSON({}), '{}');
  assert.equal(goJSON({ a: undefined, b: 1 }), '{"b":1}');
  assert.equal(goJSON(new Map([['b', 1], ['a', 2]])), '{"a":2,"b":1}');
  assert.equal(goJSON(1e21), '1e+21');
  assert.equal(goJSON(1e-7), '1e-7');
  assert.equal(goJSON(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))), '"2024-01-02T03:04:05Z"');
  assert.equal(goJSON(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120))), '"2024-01-02T03:04:05.12Z"');
  assert.equal(goJSON({ toJSON: () => 'x' }), '"x"');
  assert.throws(() => goJSON({ a: NaN }), { message: 'json: unsupported value: NaN' });
  assert.throws(() => goJSON(Infinity), { message: 'json: unsupported value: +Inf' });
});
