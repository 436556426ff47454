import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { KICK } from '../agent/session.js';
import { KICK_MS, SessionHub } from './sessions.js';

/** A session's response as the hub uses it: writes are recorded, 'close' ends it. */
function fakeResponse(): ServerResponse & { written: string[] } {
  const r = Object.assign(new EventEmitter(), { written: [] as string[], writableEnded: false });
  (r as any).write = (s: string) => { r.written.push(s); return true; };
  return r as unknown as ServerResponse & { written: string[] };
}
const settle = () => new Promise((r) => setTimeout(r, KICK_MS * 3));

test('a burst of store changes is one kick down every open session; heartbeats kick nobody', async () => {
  const hub = new SessionHub();
  const a = fakeResponse(), b = fakeResponse(), gone = fakeResponse();
  for (const r of [a, b, gone]) hub.add(r);
  gone.emit('close');
  hub.changed('/shoal/heartbeats/n1');
  await settle();
  assert.deepEqual(a.written, [], 'a heartbeat changes no assignment');
  hub.changed('/shoal/tasks/t1');
  hub.changed('/shoal/tasks/t2');
  hub.changed('');
  await settle();
  assert.deepEqual(a.written, [KICK]);
  assert.deepEqual(b.written, [KICK]);
  assert.deepEqual(gone.written, [], 'a closed session hears nothing');
  hub.changed('/shoal/attachments/x');
  hub.close();
  await settle();
  assert.deepEqual(a.written, [KICK], 'nothing after close');
});
