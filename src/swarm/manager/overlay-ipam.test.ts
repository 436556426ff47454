import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { GATEWAY_OWNER, OverlayIpam, VNI_START, macFromIp, validateAddrPool } from './overlay-ipam.js';

const status = (fn: () => unknown): number => {
  try { fn(); } catch (e) { return e instanceof ApiError ? e.status : -1; }
  return 0;
};

test('subnets come from the default pool (10.0.0.0/8 in /24s), skipping used, user-given and avoided subnets', () => {
  const ipam = OverlayIpam.create();
  const ingress = ipam.allocateNetwork('ingress');
  assert.equal(ingress.subnet, '10.0.0.0/24');
  assert.equal(ingress.gateway, '10.0.0.1');
  assert.equal(ingress.vni, VNI_START);
  assert.equal(ipam.allocateNetwork('user', { subnet: '10.0.1.0/24' }).userSubnet, true);
  assert.equal(ipam.allocateNetwork('a', { avoid: ['10.0.2.0/23'] }).subnet, '10.0.4.0/24');
  assert.equal(ipam.allocateNetwork('b').subnet, '10.0.2.0/24');
  // idempotent: the same id gets its allocation back
  assert.deepEqual(ipam.allocateNetwork('a'), ipam.network('a'));
  assert.equal(ipam.allocateNetwork('a').vni, VNI_START + 2);
  // a released subnet is the first free one again
  ipam.releaseNetwork('ingress');
  assert.equal(ipam.allocateNetwork('c').subnet, '10.0.0.0/24');
});

test('swarm init --default-addr-pool / --default-addr-pool-mask-length', () => {
  const ipam = OverlayIpam.create(['192.168.100.0/23', '172.30.0.0/16'], 25);
  assert.equal(ipam.allocateNetwork('n1').subnet, '192.168.100.0/25');
  for (const id of ['n2', 'n3', 'n4']) ipam.allocateNetwork(id);
  assert.equal(ipam.network('n4')!.subnet, '192.168.101.128/25');
  assert.equal(ipam.allocateNetwork('n5').subnet, '172.30.0.0/25');
  const tiny = OverlayIpam.create(['10.9.0.0/24'], 24);
  tiny.allocateNetwork('x');
  assert.equal(status(() => tiny.allocateNetwork('y')), 400);
  assert.throws(() => validateAddrPool(['10.0.0.0/8'], 30), /subnet size is out of range: 30/);
  assert.throws(() => validateAddrPool(['10.0.0.0/16'], 8), /Subnet size is too small for pool: 8/);
  assert.throws(() => validateAddrPool(['10.0.0/8'], 24), /invalid base pool/);
  assert.deepEqual(validateAddrPool([' 10.1.2.3/16 '], 24), { pools: ['10.1.0.0/16'], subnetSize: 24 });
});

test('user subnets: overlap is 403, bad gateway/range 400, custom gateway and ip-range honoured', () => {
  const ipam = OverlayIpam.create();
  ipam.allocateNetwork('a');
  assert.equal(status(() => ipam.allocateNetwork('b', { subnet: '10.0.0.128/25' })), 403);
  assert.equal(status(() => ipam.allocateNetwork('b', { subnet: '10.0.0.0/8' })), 403);
  assert.equal(status(() => ipam.allocateNetwork('b', { subnet: '10.20.0.0/24', gateway: '10.21.0.1' })), 400);
  assert.equal(status(() => ipam.allocateNetwork('b', { subnet: 'nope' })), 400);
  assert.equal(status(() => ipam.allocateNetwork('b', { gateway: '10.0.9.1' })), 400);
  assert.equal(status(() => ipam.allocateNetwork('b', { subnet: '10.20.0.0/24', ipRange: '10.21.0.0/28' })), 400);
  assert.equal(ipam.networkIds().length, 1, 'failed requests allocate nothing');
  const n = ipam.allocateNetwork('b', { subnet: '10.20.0.0/24', gateway: '10.20.0.254', ipRange: '10.20.0.64/30' });
  assert.equal(n.gateway, '10.20.0.254');
  assert.equal(ipam.allocateAddress('b', 'task:1'), '10.20.0.64');
  assert.equal(ipam.allocateAddress('b', 'task:2'), '10.20.0.65');
});

test('addresses: serial after the gateway, idempotent per owner, requested, released, exhausted', () => {
  const ipam = OverlayIpam.create(['10.5.0.0/16'], 29); // 10.5.0.1 .. .6 usable
  ipam.allocateNetwork('n');
  assert.equal(ipam.allocateAddress('n', 'vip:svc'), '10.5.0.2');
  assert.equal(ipam.allocateAddress('n', 'task:a'), '10.5.0.3');
  assert.equal(ipam.allocateAddress('n', 'vip:svc'), '10.5.0.2', 'same owner, same address');
  assert.equal(ipam.allocateAddress('n', 'node:n1', '10.5.0.6'), '10.5.0.6');
  assert.equal(status(() => ipam.allocateAddress('n', 'task:b', '10.5.0.6')), 403);
  assert.equal(status(() => ipam.allocateAddress('n', 'task:b', '10.5.0.7')), 400); // broadcast
  assert.equal(status(() => ipam.allocateAddress('n', 'task:b', '10.6.0.2')), 400);
  assert.equal(status(() => ipam.allocateAddress('nope', 'task:b')), 404);
  ipam.releaseAddress('n', 'task:a');
  // serial: continues after the last allocated (.3), so the freed .3 comes last
  assert.equal(ipam.allocateAddress('n', 'task:b'), '10.5.0.4');
  assert.equal(ipam.allocateAddress('n', 'task:c'), '10.5.0.5');
  assert.equal(ipam.allocateAddress('n', 'task:d'), '10.5.0.3');
  assert.equal(status(() => ipam.allocateAddress('n', 'task:e')), 500);
  ipam.releaseAddress('n', '10.5.0.4');
  ipam.releaseOwner('node:n1');
  ipam.releaseAddress('n', GATEWAY_OWNER); // the gateway is never released
  assert.deepEqual(ipam.network('n')!.addresses, { '10.5.0.1': 'gateway', '10.5.0.2': 'vip:svc', '10.5.0.3': 'task:d', '10.5.0.5': 'task:c' });
  assert.equal(ipam.addressOf('n', 'task:c'), '10.5.0.5');
  assert.equal(ipam.addressOf('n', 'task:zz'), undefined);
});

test('VNIs: serial from 4096, requested ones checked', () => {
  const ipam = OverlayIpam.create();
  assert.equal(ipam.allocateNetwork('a').vni, 4096);
  assert.equal(ipam.allocateNetwork('b', { vni: 4097 }).vni, 4097);
  assert.equal(ipam.allocateNetwork('c').vni, 4098);
  assert.equal(status(() => ipam.allocateNetwork('d', { vni: 4096 })), 403);
  assert.equal(status(() => ipam.allocateNetwork('d', { vni: 2 ** 24 })), 400);
  ipam.releaseNetwork('a');
  assert.equal(ipam.allocateNetwork('d').vni, 4099, 'a released VNI is not reused at once');
});

test('state: JSON round trip rebuilds the same allocator; equal allocations give equal JSON', () => {
  const ipam = OverlayIpam.create(['10.10.0.0/16'], 24);
  ipam.allocateNetwork('zeta');
  ipam.allocateNetwork('alpha', { subnet: '10.99.0.0/24' });
  ipam.allocateAddress('alpha', 'task:2');
  ipam.allocateAddress('alpha', 'task:1', '10.99.0.9');
  const json = JSON.stringify(ipam.toState());
  assert.equal(json, JSON.stringify(ipam.toState()));
  assert.deepEqual(Object.keys(ipam.toState().networks), ['alpha', 'zeta']);
  assert.deepEqual(Object.keys(ipam.toState().networks.alpha!.addresses), ['10.99.0.1', '10.99.0.2', '10.99.0.9']);
  const again = OverlayIpam.fromState(json);
  assert.equal(JSON.stringify(again.toState()), json);
  // the rebuilt allocator continues where the old one stopped
  assert.equal(again.allocateAddress('alpha', 'task:3'), ipam.allocateAddress('alpha', 'task:3'));
  assert.equal(again.allocateNetwork('new').vni, ipam.allocateNetwork('new').vni);
  assert.equal(JSON.stringify(again.toState()), JSON.stringify(ipam.toState()));
  // toState is a copy: changing it does not change the allocator
  const st = again.toState();
  st.networks.alpha!.addresses['10.99.0.77'] = 'x';
  assert.equal(again.addressOf('alpha', 'x'), undefined);
  assert.throws(() => OverlayIpam.fromState({ ...st, version: 2 as 1 }), /unknown format/);
  const bad = again.toState();
  bad.networks.alpha!.addresses['10.1.1.1'] = 'task:x';
  assert.throws(() => OverlayIpam.fromState(bad), /outside/);
  const dup = again.toState();
  dup.networks.zeta!.vni = dup.networks.alpha!.vni;
  assert.throws(() => OverlayIpam.fromState(dup), /duplicate VNI/);
});

test('MAC from IPv4 like Docker', () => {
  assert.equal(macFromIp('10.0.1.5'), '02:42:0a:00:01:05');
  assert.equal(macFromIp('10.255.0.2'), '02:42:0a:ff:00:02');
});
