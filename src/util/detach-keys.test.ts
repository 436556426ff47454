import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { DetachWatch, EscapeProxy, parseDetachKeys } from './detach-keys.js';

test('parseDetachKeys is moby/term ToBytes', () => {
  assert.deepEqual(parseDetachKeys(undefined), [16, 17]);
  assert.deepEqual(parseDetachKeys(''), [16, 17]);
  assert.deepEqual(parseDetachKeys('ctrl-a,x'), [1, 120]);
  assert.deepEqual(parseDetachKeys('ctrl-@,ctrl-[,ctrl-\\,ctrl-_,DEL'), [0, 27, 28, 31, 127]);
  const bad: [string, string][] = [['ctrl-1', 'ctrl-1'], ['ctrl-A', 'ctrl-A'], ['ab', 'ab'], ['ctrl-a, x', ' x'], ['é', 'é'], ['a,', '']];
  for (const [keys, key] of bad) assert.throws(() => parseDetachKeys(keys), { message: `Unknown character: '${key}'` }, keys);
});

test('EscapeProxy holds a partial sequence back and lets it go when it does not complete', () => {
  const p = new EscapeProxy([16, 17]);
  assert.deepEqual(p.feed(Buffer.from('ab')), { data: Buffer.from('ab'), detach: false });
  assert.deepEqual(p.feed(Buffer.from([16])), { data: Buffer.alloc(0), detach: false });
  assert.deepEqual(p.feed(Buffer.from('c')), { data: Buffer.from([16, 99]), detach: false });
  assert.deepEqual(p.feed(Buffer.from([120, 16, 17, 121])), { data: Buffer.from([120]), detach: true });
});

test('DetachWatch forwards what precedes the sequence, then reports it and drops the rest', async () => {
  let detached = 0;
  const w = new DetachWatch([1, 120], () => { detached++; });
  const got: Buffer[] = [];
  w.on('data', (d: Buffer) => got.push(d));
  const done = new Promise((r) => w.on('end', r));
  Readable.from([Buffer.from('ls\r'), Buffer.from([1]), Buffer.from('y'), Buffer.from([1]), Buffer.from('x after'), Buffer.from('more')]).pipe(w);
  await done;
  assert.equal(Buffer.concat(got).toString('latin1'), 'ls\r\x01y');
  assert.equal(detached, 1);
});
