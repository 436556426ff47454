import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDetailedLine, taskPrefix } from './service-logs.js';

const details = 'com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1';

test('a detailed line splits into timestamp, context, other details and message', () => {
  const p = parseDetailedLine(Buffer.from(`2024-05-01T10:00:02.500000000Z ${details},x=a+b%2C hello world\n`), true);
  assert.equal(p.ts?.toString(), '2024-05-01T10:00:02.500000000Z');
  assert.deepEqual(p.ctx, { nodeId: 'n1', serviceId: 's1', taskId: 't1' });
  assert.deepEqual([...p.details], [['x', 'a b,']]);
  assert.equal(p.msg.toString(), 'hello world\n');
  assert.equal(parseDetailedLine(Buffer.from(`${details} \n`), false).msg.toString(), '\n');
  assert.throws(() => parseDetailedLine(Buffer.from('nospace'), false), /invalid context in log message/);
  assert.throws(() => parseDetailedLine(Buffer.from('a=b line'), false), /missing node id in details/);
});

test('docker\'s task prefix: name.slot.task@node, padded to the widest slot', () => {
  const id = 'abcdefghijklmnopqrstuvwxy';
  assert.equal(taskPrefix('web', 3, id, 'h1', { padding: 2 }), 'web.3.abcdefghijkl@h1 ');
  assert.equal(taskPrefix('web', 10, id, 'h1', { padding: 2 }), 'web.10.abcdefghijkl@h1');
  assert.equal(taskPrefix('web', 3, id, 'h1', { padding: 1, noTaskIds: true }), 'web.3@h1');
  assert.equal(taskPrefix('web', 3, id, 'h1', { padding: 1, noTrunc: true }), `web.3.${id}@h1`);
});
