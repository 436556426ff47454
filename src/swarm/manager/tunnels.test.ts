import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newTunnelKey } from '../node/tunnel-key.js';
import type { SwarmNetworkView } from '../../engine/networks/network-manager.js';
import type { NodeObject } from './objects.js';
import { maintained, tunnelAddrs, tunnelReply, withReport, type TunnelState } from './tunnels.js';

const t0 = new Date('2030-01-01T00:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const report = (epoch = 0) => ({ publicKey: newTunnelKey(epoch).publicKey, keyEpoch: epoch, port: 51820 });
const node = (id: string, addr: string) => ({ ID: id, Status: { State: 'ready', Addr: addr } }) as unknown as NodeObject;
const view = (encrypted: boolean, vteps: string[]): SwarmNetworkView => ({
  id: 'n', name: 'n', vni: 4097, subnet: '10.0.1.0/24', gateway: '10.0.1.1', attachable: false, internal: false,
  peers: vteps.map((vtep, i) => ({ ip: `10.0.1.${10 + i}`, vtep })), names: {}, vips: [], ...(encrypted ? { encrypted } : {}),
});

test('reports: each node gets the lowest free tunnel address once; unchanged, stale and bad reports write nothing', () => {
  let s: TunnelState = { Nodes: {} };
  const a = report();
  s = withReport(s, 'A', a, t0)!;
  s = withReport(s, 'B', report(), t0)!;
  assert.deepEqual([...tunnelAddrs(s).values()], ['169.254.16.1', '169.254.16.2']);
  assert.equal(withReport(s, 'A', a, later(1000)), undefined, 'the same key again');
  for (const bad of [undefined, {}, { ...a, publicKey: 'not-a-key' }, { ...a, port: 0 }, { ...a, keyEpoch: -1 }]) assert.equal(withReport(s, 'C', bad, t0), undefined);
  // a new key keeps the address; an older epoch than the published one is ignored
  const a1 = report(1);
  s = withReport(s, 'A', a1, later(5000))!;
  assert.equal(s.Nodes.A.Addr, '169.254.16.1');
  assert.equal(s.Nodes.A.PublicKey, a1.publicKey);
  assert.equal(s.Nodes.A.KeyAt, later(5000).toISOString());
  assert.equal(withReport(s, 'A', report(0), later(6000)), undefined);
  // a released address is taken again by the next node
  const { A: _a, ...rest } = s.Nodes;
  assert.equal(withReport({ Nodes: rest }, 'C', report(), t0)!.Nodes.C.Addr, '169.254.16.1');
});

test('the leader asks for a new pair once a key is older than the interval, once; gone nodes are dropped', () => {
  let s: TunnelState = { Nodes: {} };
  s = withReport(s, 'A', report(), t0)!;
  s = withReport(s, 'B', report(), later(60_000))!;
  assert.equal(maintained(s, new Set(['A', 'B']), later(59_999), 60_000), undefined);
  s = maintained(s, new Set(['A', 'B']), later(60_000), 60_000)!;
  assert.equal(s.Nodes.A.Rotate, 1);
  assert.equal(s.Nodes.B.Rotate, 0);
  assert.equal(maintained(s, new Set(['A', 'B']), later(90_000), 60_000), undefined, 'asked already, no new key yet');
  // the node answers with a key for epoch 1: its clock starts again
  s = withReport(s, 'A', report(1), later(91_000))!;
  assert.deepEqual([s.Nodes.A.Epoch, s.Nodes.A.Rotate], [1, 1]);
  assert.equal(maintained(s, new Set(['A', 'B']), later(100_000), 60_000), undefined, 'the new key is young');
  assert.deepEqual(Object.keys(maintained(s, new Set(['B']), later(1000), 60_000)!.Nodes), ['B']);
});

test('replies: peers are the nodes an encrypted network uses as VTEPs, none without one', () => {
  let s: TunnelState = { Nodes: {} };
  for (const id of ['A', 'B', 'C']) s = withReport(s, id, report(), t0)!;
  const nodes = [node('A', '10.213.0.11'), node('B', '10.213.0.12'), node('C', '10.213.0.13')];
  assert.deepEqual(tunnelReply('A', s, [view(false, ['10.213.0.12'])], nodes), { keyEpoch: 0 });
  const r = tunnelReply('A', s, [view(true, ['169.254.16.3']), view(false, ['10.213.0.12'])], nodes);
  assert.equal(r.address, '169.254.16.1');
  assert.deepEqual(r.peers, [{ publicKey: s.Nodes.C.PublicKey, endpoint: '10.213.0.13:51820', address: '169.254.16.3' }]);
  // alone on its encrypted network: the interface, no peers
  assert.deepEqual(tunnelReply('B', s, [view(true, [])], nodes), { keyEpoch: 0, address: '169.254.16.2', peers: [] });
  assert.deepEqual(tunnelReply('X', s, [view(true, [])], nodes), { keyEpoch: 0 });
});
