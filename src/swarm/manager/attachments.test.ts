import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { attachNetwork, detachNetwork, listAttachments, lookupNetwork, pruneAttachments, PRUNE_GRACE_MS, releaseNodeAttachments } from './attachments.js';
import { overlayViews } from './net-allocator.js';
import { createNetwork, listNetworks, NET, readIpam, removeNetwork } from './networks.js';
import { memStore } from './mem-store.js';
import { KEY, newNodeObject } from './objects.js';
import { SVC } from './services.js';

const refusal = async (p: Promise<unknown>): Promise<{ status: number; message: string }> => {
  try { await p; } catch (e) { return { status: e instanceof ApiError ? e.status : -1, message: (e as Error).message }; }
  throw new Error('expected a refusal');
};

async function setup() {
  const store = memStore();
  for (const [id, ip] of [['n1', '10.213.0.11'], ['n2', '10.213.0.12'], ['n3', '10.213.0.13']]) await store.put(KEY.node(id), newNodeObject(id, id === 'n1' ? 'manager' : 'worker', `${ip}:2377`, {}));
  const ov = (await createNetwork(store, { Name: 'ovnet', Driver: 'overlay', Attachable: true, IPAM: { Config: [{ Subnet: '10.10.9.0/24' }] } }, {})).Id;
  const closed = (await createNetwork(store, { Name: 'closed', Driver: 'overlay' }, {})).Id;
  return { store, ov, closed };
}

test('attach: an address from the cluster IPAM, the one asked for when given; the network as the node now sees it', async () => {
  const { store, ov } = await setup();
  const a = await attachNetwork(store, 'n2', { network: 'ovnet', containerId: 'c1', name: 'c1', aliases: ['web', 'abc123'] }, {});
  assert.match(a.Address, /^10\.10\.9\.\d+\/24$/);
  assert.equal(a.network.id, ov);
  assert.equal(a.network.attachable, true);
  assert.deepEqual(a.network.names.c1, [a.Address.split('/')[0]]);
  assert.deepEqual(a.network.names.web, [a.Address.split('/')[0]]);
  assert.equal(a.network.peers.length, 0, 'its own endpoint is no peer');
  assert.equal((await readIpam(store))!.addressOf(ov, `attachment:${a.ID}`), a.Address.split('/')[0]);
  // asking again for the same container and network: the same attachment
  assert.equal((await attachNetwork(store, 'n2', { network: ov, containerId: 'c1' }, {})).ID, a.ID);
  // again with a new name (the container was renamed): the same address, the new name resolves
  const renamed = await attachNetwork(store, 'n2', { network: ov, containerId: 'c1', name: 'c1-new', aliases: ['web'] }, {});
  assert.equal(renamed.ID, a.ID);
  assert.equal(renamed.Address, a.Address);
  assert.deepEqual(renamed.network.names['c1-new'], [a.Address.split('/')[0]]);
  assert.equal(renamed.network.names.c1, undefined);
  assert.equal(renamed.network.names.abc123, undefined);
  await attachNetwork(store, 'n2', { network: ov, containerId: 'c1', name: 'c1', aliases: ['web', 'abc123'] }, {});
  const fixed = await attachNetwork(store, 'n3', { network: ov.slice(0, 6), containerId: 'c2', name: 'c2', address: '10.10.9.50' }, {});
  assert.equal(fixed.Address, '10.10.9.50/24');
  assert.deepEqual(fixed.network.peers, [{ ip: a.Address.split('/')[0], vtep: '10.213.0.12' }]);
  const taken = await refusal(attachNetwork(store, 'n2', { network: 'ovnet', containerId: 'c3', address: '10.10.9.50' }, {}));
  assert.match(taken.message, /^Could not attach to network ovnet: Address already in use/);
  assert.equal((await listAttachments(store)).length, 2);
});

test("refusals in Docker's words: not attachable, ingress, unknown network", async () => {
  const { store } = await setup();
  const closed = await refusal(attachNetwork(store, 'n2', { network: 'closed', containerId: 'c1' }, {}));
  assert.deepEqual(closed, { status: 403, message: 'Could not attach to network closed: rpc error: code = PermissionDenied desc = network closed not manually attachable' });
  await createNetwork(store, { Name: 'ingress', Driver: 'overlay', Ingress: true }, {});
  assert.match((await refusal(attachNetwork(store, 'n2', { network: 'ingress', containerId: 'c1' }, {}))).message, /network ingress not manually attachable$/);
  assert.deepEqual(await refusal(attachNetwork(store, 'n2', { network: 'nope', containerId: 'c1' }, {})),
    { status: 404, message: 'Could not attach to network nope: rpc error: code = NotFound desc = network nope not found' });
  assert.deepEqual(await refusal(lookupNetwork(store, 'nope')), { status: 404, message: 'network nope not found' });
  // a lookup (container create) answers for a non-attachable network too: the refusal comes at start
  assert.equal((await lookupNetwork(store, 'closed')).attachable, false);
  assert.equal((await listAttachments(store)).length, 0);
});

test('views: the worker with only a container carries the network; nodes with tasks reach and resolve the container', async () => {
  const { store, ov } = await setup();
  const svcId = 's1';
  await store.put(SVC.service(svcId), { ID: svcId, Spec: { Name: 'web', TaskTemplate: { Networks: [{ Target: ov }] } }, Endpoint: { VirtualIPs: [{ NetworkID: ov, Addr: '10.10.9.2/24' }] } });
  await store.put(SVC.task('t1'), { ID: 't1', ServiceID: svcId, Slot: 1, NodeID: 'n1', DesiredState: 'running', Status: { State: 'running' }, NetworksAttachments: [{ Network: { ID: ov }, Addresses: ['10.10.9.3/24'] }] });
  const a = await attachNetwork(store, 'n3', { network: 'ovnet', containerId: 'c1', name: 'plain', aliases: ['x'] }, {});
  const ip = a.Address.split('/')[0];
  assert.deepEqual(a.network.peers, [{ ip: '10.10.9.3', vtep: '10.213.0.11' }]);
  assert.deepEqual(a.network.names.web, ['10.10.9.2']);
  assert.deepEqual(a.network.names['tasks.web'], ['10.10.9.3']);
  assert.deepEqual(a.network.vips, [{ name: 'web', vip: '10.10.9.2', backends: ['10.10.9.3'] }]);
  const [tasks, services, nodes, atts] = [await store.list<any>(SVC.tasks), await store.list<any>(SVC.services), await store.list<any>(KEY.nodes), await listAttachments(store)];
  const n1 = overlayViews('n1', tasks, services, await listNetworks(store), nodes, await readIpam(store), atts).find((v) => v.id === ov)!;
  assert.deepEqual(n1.peers, [{ ip, vtep: '10.213.0.13' }]);
  assert.deepEqual(n1.members, ['10.213.0.11', '10.213.0.13'], 'the nodes on the network: n1 (a task), n3 (a container)');
  assert.deepEqual([n1.names.plain, n1.names.x], [[ip], [ip]]);
  assert.equal(overlayViews('n2', tasks, services, await listNetworks(store), nodes, await readIpam(store), atts).length, 0, 'n2 has nothing on it');
});

test('detach, prune and a node leaving give the address back; a network with an attachment cannot be removed', async () => {
  const { store, ov } = await setup();
  const a = await attachNetwork(store, 'n2', { network: 'ovnet', containerId: 'c1', address: '10.10.9.50' }, {});
  await attachNetwork(store, 'n2', { network: 'ovnet', containerId: 'c2' }, {});
  await attachNetwork(store, 'n3', { network: 'ovnet', containerId: 'c3' }, {});
  const busy = await refusal(removeNetwork(store, 'ovnet', [], {}));
  assert.match(busy.message, new RegExp(`network ${ov} is in use by task \\w+$`));
  await detachNetwork(store, 'n3', { network: ov, containerId: 'c1' }, {});
  assert.equal((await listAttachments(store)).length, 3, 'another node cannot detach it');
  await detachNetwork(store, 'n2', { network: ov, containerId: 'c1' }, {});
  assert.equal((await readIpam(store))!.addressOf(ov, `attachment:${a.ID}`), undefined);
  assert.equal((await attachNetwork(store, 'n3', { network: 'ovnet', containerId: 'c4', address: '10.10.9.50' }, {})).Address, '10.10.9.50/24');
  // n2 reports it holds nothing: too new to prune at first, released once past the grace
  assert.equal(await pruneAttachments(store, 'n2', [], {}), 0);
  assert.equal(await pruneAttachments(store, 'n2', [{ networkId: ov, containerId: 'c2' }], {}, Date.now() + PRUNE_GRACE_MS + 1000), 0);
  assert.equal(await pruneAttachments(store, 'n2', [], {}, Date.now() + PRUNE_GRACE_MS + 1000), 1);
  assert.equal(await releaseNodeAttachments(store, 'n3', {}), 2);
  assert.deepEqual(await listAttachments(store), []);
  const left = Object.values((await readIpam(store))!.network(ov)!.addresses);
  assert.deepEqual(left, ['gateway']);
  await removeNetwork(store, 'ovnet', [], {});
  assert.equal(await store.get(NET.network(ov)), undefined);
});
