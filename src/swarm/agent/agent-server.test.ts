import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createRootCA } from '../ca/root-ca.js';
import { issueNodeKeyAndCert } from '../ca/node-cert.js';
import { createLogger } from '../../daemon/logger.js';
import { agentTaskLogs } from '../manager/service-logs.js';
import { AgentServer, decodeRecord, encodeRecord } from './agent-server.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-agent-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const logPath = path.join(dir, 'task.log');
writeFileSync(logPath, [
  '2024-05-01T10:00:00.000000001Z stdout F first',
  '2024-05-01T10:00:01.000000000Z stderr F oops',
  '2024-05-01T10:00:02.5Z stdout F third',
  '',
].join('\n'));
let running = true;
let exit: () => void = () => undefined;
const exited = new Promise<void>((r) => { exit = r; });

const setup = (async () => {
  const ca = await createRootCA();
  const other = await createRootCA();
  const issue = (c: typeof ca, nodeId: string, role: 'manager' | 'worker', clusterId = 'cluster1') => issueNodeKeyAndCert(c, { nodeId, role, clusterId, ips: ['127.0.0.1'] });
  const self = await issue(ca, 'node1', 'worker');
  const server = new AgentServer(createLogger('error'), { container: (id) => (id === 'task1' ? { logPath, running, exited: () => exited } : undefined) });
  await server.listen('127.0.0.1', 0, { caPem: ca.certPem, ...self, clusterId: 'cluster1' });
  after(() => server.close());
  return {
    ca, server, addr: `127.0.0.1:${server.port}`,
    manager: { caPem: ca.certPem, ...await issue(ca, 'mgr1', 'manager') },
    worker: { caPem: ca.certPem, ...await issue(ca, 'wrk2', 'worker') },
    otherCluster: { caPem: ca.certPem, ...await issue(ca, 'mgr3', 'manager', 'cluster2') },
    stranger: { caPem: ca.certPem, ...await issue(other, 'mgr9', 'manager', 'cluster1') },
  };
})();

async function collect(it: AsyncIterable<{ timeNano: bigint; stream: string; data: Buffer }>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of it) out.push(`${r.timeNano} ${r.stream} ${r.data.toString()}`);
  return out;
}

const q = (o: Record<string, string>) => new URLSearchParams({ follow: '0', stdout: '1', stderr: '1', ...o });

test('records survive the wire encoding byte for byte', () => {
  const data = Buffer.from([0xff, 0x00, 0x0a, 0x41]);
  const back = decodeRecord(encodeRecord({ time: '', timeNano: 123456789012345678n, stream: 'stderr', data, partial: false }).trim());
  assert.deepEqual(back, { timeNano: 123456789012345678n, stream: 'stderr', data });
  assert.equal(decodeRecord('{"t":"x","s":"stdout","d":""}'), undefined);
  assert.equal(decodeRecord('not json'), undefined);
});

test('a manager of the cluster gets the task log: all, tail, since, one stream', async () => {
  const { addr, manager } = await setup;
  const ac = new AbortController();
  assert.deepEqual(await collect(agentTaskLogs(addr, 'node1', 'task1', q({}), manager, ac.signal)), [
    '1714557600000000001 stdout first\n', '1714557601000000000 stderr oops\n', '1714557602500000000 stdout third\n',
  ]);
  assert.deepEqual(await collect(agentTaskLogs(addr, 'node1', 'task1', q({ tail: '1' }), manager, ac.signal)), ['1714557602500000000 stdout third\n']);
  assert.deepEqual(await collect(agentTaskLogs(addr, 'node1', 'task1', q({ since: '1714557601000000000', stderr: '0' }), manager, ac.signal)), ['1714557602500000000 stdout third\n']);
  // a task without a container here: nothing, not an error
  assert.deepEqual(await collect(agentTaskLogs(addr, 'node1', 'nosuchtask', q({}), manager, ac.signal)), []);
});

test('following sees new lines and ends once the container exited', async () => {
  const { addr, manager } = await setup;
  const ac = new AbortController();
  const got: string[] = [];
  const done = (async () => {
    for await (const r of agentTaskLogs(addr, 'node1', 'task1', q({ follow: '1', tail: '0' }), manager, ac.signal)) got.push(r.data.toString());
  })();
  await new Promise((r) => setTimeout(r, 300));
  appendFileSync(logPath, '2024-05-01T10:00:03Z stdout F late\n');
  for (let i = 0; i < 50 && !got.length; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(got, ['late\n']);
  running = false;
  exit();
  await done;
});

test('workers, other clusters and other CAs are refused; the server must be the expected node', async () => {
  const { addr, worker, otherCluster, stranger, manager } = await setup;
  const ac = new AbortController();
  await assert.rejects(collect(agentTaskLogs(addr, 'node1', 'task1', q({}), worker, ac.signal)), /node node1: Permission denied: remote certificate not part of roles: \[swarm-manager\]/);
  await assert.rejects(collect(agentTaskLogs(addr, 'node1', 'task1', q({}), otherCluster, ac.signal)), /Permission denied/);
  await assert.rejects(collect(agentTaskLogs(addr, 'node1', 'task1', q({}), stranger, ac.signal)), /node node1 is not available/);
  await assert.rejects(collect(agentTaskLogs(addr, 'node7', 'task1', q({}), manager, ac.signal)), /node node7 is not available/);
  // no client certificate at all: the handshake fails
  const { ca } = await setup;
  const status = await new Promise<string>((resolve) => {
    const req = https.request({ host: '127.0.0.1', port: Number(addr.split(':')[1]), path: '/tasks/task1/logs', ca: ca.certPem, checkServerIdentity: () => undefined },
      (res) => resolve(String(res.statusCode)));
    req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    req.end();
  });
  assert.match(status, /^error /);
});
