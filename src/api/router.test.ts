import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, splitVersion } from './router.js';

test('versioned and unversioned paths', () => {
  assert.deepEqual(splitVersion('/v1.41/containers/json'), { version: '1.41', path: '/containers/json' });
  assert.deepEqual(splitVersion('/containers/json'), { version: '1.41', path: '/containers/json' });
  assert.throws(() => splitVersion('/v1.12/info'), /too old/);
  assert.throws(() => splitVersion('/v1.99/info'), /too new/);
});

test('params, greedy params and 404/405', () => {
  const r = new Router();
  r.get('/images/json', () => 'list');
  r.get('/images/:name*/json', () => 'inspect');
  r.post('/containers/:id/start', () => 'start');
  assert.deepEqual(r.match('GET', '/images/localhost:5000/a/b:1/json').params, { name: 'localhost:5000/a/b:1' });
  assert.equal(r.match('GET', '/images/json').params.name, undefined);
  assert.equal(r.match('POST', '/containers/abc/start').params.id, 'abc');
  assert.throws(() => r.match('GET', '/containers/abc/start'), (e: any) => e.status === 405);
  assert.throws(() => r.match('GET', '/nope'), (e: any) => e.status === 404);
});
