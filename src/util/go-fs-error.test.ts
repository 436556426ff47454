import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { goFsError } from './go-fs-error.js';

test('file errors read like Go', () => {
  const err = (f: () => unknown): unknown => { try { f(); } catch (e) { return e; } throw new Error('no error'); };
  assert.equal(goFsError(err(() => readFileSync('/nonexistent/ca.pem')), '/nonexistent/ca.pem'), 'open /nonexistent/ca.pem: no such file or directory');
  assert.equal(goFsError(err(() => readFileSync('/')), '/'), 'read /: is a directory');
  assert.equal(goFsError(new Error('plain'), '/x'), 'plain');
});
