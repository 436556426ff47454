import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overlayViews, PRESERVE_CLIENT_IP_LABEL } from './net-allocator.js';
import type { SwarmNetwork } from './networks.js';
import { newNodeObject } from './objects.js';
import { OverlayIpam } from './overlay-ipam.js';

// The routing mesh as each node is told to load it: every task behind a published port, or, with
// the preserve-client-IP label, only the node's own tasks (and none on a node without one).

function fixture() {
  const ipam = OverlayIpam.create();
  const alloc = ipam.allocateNetwork('ing');
  const ingress: SwarmNetwork = {
    Name: 'ingress', Id: 'ing', Created: '', Scope: 'swarm', Driver: 'overlay', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: alloc.subnet, Gateway: alloc.gateway }] },
    Internal: false, Attachable: false, Ingress: true, ConfigFrom: { Network: '' }, ConfigOnly: false, Containers: null,
    Options: { 'com.docker.network.driver.overlay.vxlanid_list': String(alloc.vni) }, Labels: {},
  };
  const nodes = ['n1', 'n2', 'n3'].map((id, i) => newNodeObject(id, i ? 'worker' : 'manager', `10.213.0.${11 + i}:2377`, {}));
  for (const n of nodes) ipam.allocateAddress('ing', `node:${n.ID}`);
  const service = (id: string, name: string, port: number, labels: Record<string, string>) => ({
    ID: id, Spec: { Name: name, Labels: labels, EndpointSpec: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port }] } },
    Endpoint: { Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: port, PublishMode: 'ingress' }] },
  });
  const services = [service('s1', 'plain', 8080, {}), service('s2', 'keep', 8081, { [PRESERVE_CLIENT_IP_LABEL]: 'true' })];
  const task = (id: string, svc: string, node: string, ip: string) => ({
    ID: id, ServiceID: svc, Slot: 1, NodeID: node, DesiredState: 'running', Status: { State: 'running' },
    NetworksAttachments: [{ Network: { ID: 'ing' }, Addresses: [`${ip}/24`] }],
  });
  const base = alloc.subnet.split('/')[0].split('.').slice(0, 3).join('.');
  const tasks = [task('t1', 's1', 'n1', `${base}.101`), task('t2', 's1', 'n2', `${base}.102`), task('t3', 's2', 'n1', `${base}.103`), task('t4', 's2', 'n2', `${base}.104`)];
  const mesh = (node: string) => overlayViews(node, tasks as any, services as any, [ingress], nodes, ipam).find((v) => v.id === 'ing')!.mesh!;
  return { mesh, base };
}

test('a published port spreads over every task of the swarm, SNATed', () => {
  const { mesh, base } = fixture();
  for (const node of ['n1', 'n2', 'n3']) {
    const p = mesh(node).find((x) => x.name === 'plain')!;
    assert.deepEqual(p.backends.sort(), [`${base}.101`, `${base}.102`]);
    assert.equal(p.preserveClientIp, undefined);
  }
});

test('preserve-client-IP label: each node has only its own tasks behind the port, a node without one none', () => {
  const { mesh, base } = fixture();
  assert.deepEqual(mesh('n1').find((x) => x.name === 'keep'), { name: 'keep', proto: 'tcp', publishedPort: 8081, targetPort: 80, backends: [`${base}.103`], preserveClientIp: true });
  assert.deepEqual(mesh('n2').find((x) => x.name === 'keep')!.backends, [`${base}.104`]);
  const n3 = mesh('n3').find((x) => x.name === 'keep')!;
  assert.deepEqual([n3.backends, n3.preserveClientIp], [[], true]);
});
