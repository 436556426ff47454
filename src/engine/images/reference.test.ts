import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { familiarMatch, familiarName, familiarString, fullName, globMatch, parseAnyReference, parseNormalizedNamed, tagNameOnly, withTag } from './reference.js';

const D = 'sha256:' + 'ab'.repeat(32);

test('normalizes names like docker', () => {
  const table: [string, string, string, string][] = [
    // input, full name, familiar string (tagNameOnly), familiar name
    ['busybox', 'docker.io/library/busybox', 'busybox:latest', 'busybox'],
    ['library/busybox', 'docker.io/library/busybox', 'busybox:latest', 'busybox'],
    ['docker.io/library/busybox:1', 'docker.io/library/busybox', 'busybox:1', 'busybox'],
    ['index.docker.io/library/busybox:1.36.1', 'docker.io/library/busybox', 'busybox:1.36.1', 'busybox'],
    ['foo/bar', 'docker.io/foo/bar', 'foo/bar:latest', 'foo/bar'],
    ['localhost:5000/foo/bar:tag', 'localhost:5000/foo/bar', 'localhost:5000/foo/bar:tag', 'localhost:5000/foo/bar'],
    ['localhost/foo', 'localhost/foo', 'localhost/foo:latest', 'localhost/foo'],
    ['registry.example.com/a/b/c', 'registry.example.com/a/b/c', 'registry.example.com/a/b/c:latest', 'registry.example.com/a/b/c'],
    [`busybox@${D}`, 'docker.io/library/busybox', `busybox@${D}`, 'busybox'],
    ['my-app_x.y__z', 'docker.io/library/my-app_x.y__z', 'my-app_x.y__z:latest', 'my-app_x.y__z'],
  ];
  for (const [input, full, fam, name] of table) {
    const r = parseNormalizedNamed(input);
    assert.equal(fullName(r), full, input);
    assert.equal(familiarString(tagNameOnly(r)), fam, input);
    assert.equal(familiarName(r), name, input);
  }
});

test('rejects bad references with docker messages (400)', () => {
  const bad: [string, string][] = [
    ['Busybox', 'invalid reference format: repository name must be lowercase'],
    ['foo/Bar:1', 'invalid reference format: repository name must be lowercase'],
    ['busybox:', 'invalid reference format'],
    ['busy box', 'invalid reference format'],
    ['-foo', 'invalid reference format'],
    ['foo//bar', 'invalid reference format'],
    ['', 'invalid reference format'],
    ['a'.repeat(64), `invalid repository name (${'a'.repeat(64)}), cannot specify 64-byte hexadecimal strings`],
    ['x/' + 'a'.repeat(260), 'invalid reference format: repository name must not be more than 255 characters'],
  ];
  for (const [input, msg] of bad) {
    assert.throws(() => parseNormalizedNamed(input), (e: unknown) => e instanceof ApiError && e.status === 400 && e.message === msg, input);
  }
  assert.throws(() => withTag(parseNormalizedNamed('x'), 'bad tag'), /invalid tag format/);
});

test('parseAnyReference tells IDs from names', () => {
  assert.deepEqual(parseAnyReference('ab'.repeat(32)), { id: D });
  assert.deepEqual(parseAnyReference(D), { id: D });
  assert.ok('ref' in parseAnyReference('sha256:abc'));
});

test('reference filter globbing follows path.Match', () => {
  const r = parseNormalizedNamed('busybox:latest');
  assert.ok(familiarMatch('busy*', r));
  assert.ok(familiarMatch('busybox', r));
  assert.ok(familiarMatch('busybox:*', r));
  assert.ok(!familiarMatch('busybox:1*', r));
  assert.ok(!familiarMatch('*', parseNormalizedNamed('foo/bar:1')));
  assert.ok(familiarMatch('*/*', parseNormalizedNamed('foo/bar:1')));
  assert.ok(globMatch('b[a-u]sy?ox', 'busybox'));
  assert.ok(!globMatch('b[^u]sybox', 'busybox'));
});
