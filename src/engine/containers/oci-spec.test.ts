import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSpec, capabilities, DEFAULT_CAPS } from './oci-spec.js';

const base = {
  rootfs: '/r', args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, additionalGids: [], tty: false, hostname: 'h',
  readonlyRootfs: false, cgroupsPath: '/shoal/x', mounts: [],
};

test('a new network namespace unless a path or host is given', () => {
  assert.deepEqual(buildSpec(base).linux.namespaces.find((n: any) => n.type === 'network'), { type: 'network' });
  assert.deepEqual(buildSpec({ ...base, netns: '/run/ns/a' }).linux.namespaces.find((n: any) => n.type === 'network'), { type: 'network', path: '/run/ns/a' });
  assert.equal(buildSpec({ ...base, netns: 'host' }).linux.namespaces.some((n: any) => n.type === 'network'), false);
});

test('memory limit sets swap to twice the limit like docker', () => {
  const s = buildSpec({ ...base, memory: 64 << 20 });
  assert.equal(s.linux.resources.memory.limit, 64 << 20);
  assert.equal(s.linux.resources.memory.swap, 128 << 20);
});

test('cpus become a CFS quota; pids limit', () => {
  const s = buildSpec({ ...base, cpuQuota: 150000, cpuPeriod: 100000, pidsLimit: 10 });
  assert.deepEqual(s.linux.resources.cpu, { quota: 150000, period: 100000 });
  assert.deepEqual(s.linux.resources.pids, { limit: 10 });
});

test('capabilities: add, drop, ALL', () => {
  assert.deepEqual(capabilities({}), DEFAULT_CAPS);
  assert.ok(capabilities({ capAdd: ['NET_ADMIN'] }).includes('CAP_NET_ADMIN'));
  assert.ok(!capabilities({ capDrop: ['chown'] }).includes('CAP_CHOWN'));
  assert.deepEqual(capabilities({ capDrop: ['ALL'], capAdd: ['KILL'] }), ['CAP_KILL']);
  assert.ok(capabilities({ privileged: true }).includes('CAP_SYS_ADMIN'));
});

test('user mounts replace default mounts at the same destination', () => {
  const s = buildSpec({ ...base, mounts: [{ destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }] });
  const shm = s.mounts.filter((m: any) => m.destination === '/dev/shm');
  assert.equal(shm.length, 1);
  assert.deepEqual(shm[0].options, ['size=1m']);
});

test('read-only rootfs and tty', () => {
  const s = buildSpec({ ...base, readonlyRootfs: true, tty: true });
  assert.equal(s.root.readonly, true);
  assert.equal(s.process.terminal, true);
});
