import { test } from 'node:test';
import assert from 'node:assert/strict';
import { incompleteStreamMessage, parseTail, queryEscape, renderLogLine } from './service-logs.js';

const m = { nodeId: 'n1', serviceId: 's1', taskId: 't1', timeNano: 1714557602500000000n, stream: 'stdout' as const, data: Buffer.from('hello\n') };

test('lines are rendered like the Docker daemon: [timestamp ][details ]line', () => {
  assert.equal(renderLogLine(m, { timestamps: false, details: false }).toString(), 'hello\n');
  assert.equal(renderLogLine(m, { timestamps: false, details: true }).toString(),
    'com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello\n');
  assert.equal(renderLogLine(m, { timestamps: true, details: true }).toString(),
    '2024-05-01T10:00:02.500000000Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello\n');
});

test('details are escaped like Go url.QueryEscape', () => {
  assert.equal(queryEscape('a b,c=d/é!*~_.-'), 'a+b%2Cc%3Dd%2F%C3%A9%21%2A~_.-');
});

test('tail: all, a count, or Docker errors', () => {
  assert.equal(parseTail(null), undefined);
  assert.equal(parseTail('all'), undefined);
  assert.equal(parseTail(''), undefined);
  assert.equal(parseTail('3'), 3);
  assert.equal(parseTail('0'), 0);
  assert.throws(() => parseTail('x'), { status: 500, message: 'tail value must be a positive integer or "all"' });
  assert.throws(() => parseTail('-2'), { message: 'negative tail values not supported' });
});

test('an incomplete stream says why, as swarmkit does', () => {
  assert.equal(incompleteStreamMessage(['node a is not available', 'node b is not available']),
    'Error grabbing logs: rpc error: code = Unknown desc = warning: incomplete log stream. some logs could not be retrieved for the following reasons: node a is not available, node b is not available\n');
});
