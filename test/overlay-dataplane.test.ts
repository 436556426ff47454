// The overlay data plane (src/engine/networks/overlay.ts) between three lab hosts, no daemon:
// a bridge + VXLAN device per host, container-like namespaces attached with veths, remote
// endpoints programmed as static neighbour/FDB entries. Real traffic through the kernel.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyOverlay, attachEndpoint, detachEndpoint, overlayLinkNames, removeOverlay, type OverlayNet, type OverlayPeer } from '../src/engine/networks/overlay.js';
import { macFor, ipToInt } from '../src/engine/networks/ipam.js';
import { createLab, type Host, type Lab } from './harness/hosts.js';
import { hostRunner, makeBox, type Box } from './harness/boxes.js';

const NET_ID = 'd3adb33fc0ffee0123456789';
const names = overlayLinkNames(NET_ID);
const SUBNET = '10.0.9.0/24';

describe('overlay data plane (VXLAN between hosts)', () => {
  let lab: Lab;
  const boxes: Box[] = [];
  const ip = (i: number) => `10.0.9.${i + 1}`; // c1 = .2, c2 = .3, c3 = .4
  const netOf = (h: Host, over: Partial<OverlayNet> = {}): OverlayNet => ({ id: NET_ID, vni: 4097, subnet: SUBNET, ...names, localVtep: h.addr, ...over });
  const endpoint = (i: number): OverlayPeer => ({ ip: ip(i), mac: macFor(ipToInt(ip(i))), vtep: lab.host(i).addr });
  const all = (): OverlayPeer[] => [1, 2, 3].map(endpoint);
  const apply = (i: number, peers = all(), over: Partial<OverlayNet> = {}) => applyOverlay(netOf(lab.host(i), over), peers, { exec: hostRunner(lab.host(i)) });
  const box = (i: number) => boxes[i - 1]!;
  const hostSh = async (i: number, cmd: string[]) => (await lab.host(i).execOk(cmd)).split('\n').map((l) => l.trim()).join('\n').trim();
  /** the VXLAN device's own FDB (MAC -> VTEP), sorted */
  const vxlanFdb = async (i: number) => (await hostSh(i, ['bridge', 'fdb', 'show', 'dev', names.vxlanName])).split('\n').filter((l) => / self( |$)/.test(l)).sort();
  // what a re-apply must not change: the device (same ifindex), its neighbours and FDB
  const vxState = (i: number) => hostSh(i, ['sh', '-c', `ip -o link show dev ${names.vxlanName} | cut -d: -f1; ip neigh show dev ${names.vxlanName}; bridge fdb show dev ${names.vxlanName}`]);

  before(async () => {
    lab = await createLab({ hosts: 3 });
    for (const i of [1, 2, 3]) {
      await apply(i);
      const b = await makeBox(lab.host(i), `c${i}`);
      boxes.push(b);
      await attachEndpoint(netOf(lab.host(i)), { netns: b.path, hostIf: `vc${i}`, ifname: 'eth0', ip: ip(i) }, { exec: hostRunner(lab.host(i)) });
      b.serveTcp(7000, `c${i}`);
    }
  });

  after(async () => {
    for (const b of boxes) await b.remove().catch(() => undefined);
    await lab?.destroy();
  });

  it('creates a bridge and a VXLAN device (VNI, port 4789, nolearning, proxy, local VTEP, MTU 1450)', async () => {
    const h = lab.host(1);
    const vx = JSON.parse(await h.execOk(['ip', '-d', '-j', 'link', 'show', 'dev', names.vxlanName]))[0];
    assert.equal(vx.mtu, 1450);
    assert.equal(vx.master, names.bridgeName);
    assert.deepEqual(
      { id: vx.linkinfo.info_data.id, port: vx.linkinfo.info_data.port, local: vx.linkinfo.info_data.local, learning: vx.linkinfo.info_data.learning, proxy: vx.linkinfo.info_data.proxy },
      { id: 4097, port: 4789, local: h.addr, learning: false, proxy: true },
    );
    const br = JSON.parse(await h.execOk(['ip', '-d', '-j', 'addr', 'show', 'dev', names.bridgeName]))[0];
    assert.equal(br.linkinfo.info_kind, 'bridge');
    assert.equal(br.mtu, 1450);
    assert.deepEqual(br.addr_info.filter((a: { family: string }) => a.family === 'inet'), [], 'no address (gateway) on the host');
    // exactly the remote endpoints: neighbours (proxy ARP) and FDB (MAC -> VTEP)
    // (the kernel lists neighbours in hash order)
    assert.deepEqual((await hostSh(1, ['ip', 'neigh', 'show', 'dev', names.vxlanName])).split('\n').sort(),
      ['10.0.9.3 lladdr 02:42:0a:00:09:03 PERMANENT', '10.0.9.4 lladdr 02:42:0a:00:09:04 PERMANENT']);
    assert.deepEqual(await vxlanFdb(1),
      [`02:42:0a:00:09:03 dst ${lab.host(2).addr} self permanent`, `02:42:0a:00:09:04 dst ${lab.host(3).addr} self permanent`]);
  });

  it('containers on different hosts ping each other and talk TCP; applying again changes nothing', async () => {
    assert.ok(await box(1).ping(ip(2)), 'c1 -> c2 ping');
    assert.ok(await box(3).ping(ip(1)), 'c3 -> c1 ping');
    assert.equal(await box(1).tcp(ip(2), 7000), `c2 ${ip(1)}`);
    assert.equal(await box(2).tcp(ip(3), 7000), `c3 ${ip(2)}`);
    assert.equal(await box(3).tcp(ip(1), 7000), `c1 ${ip(3)}`);
    // a payload larger than one packet crosses too (the 1450 MTU leaves room for the encapsulation)
    const big = 'x'.repeat(100_000);
    const server = box(2).start(['socat', '-u', 'TCP-LISTEN:7001,reuseaddr', 'SYSTEM:wc -c > /run/c2-bytes']);
    await new Promise((r) => setTimeout(r, 300));
    await box(1).execOk(['socat', '-u', '-', `TCP:${ip(2)}:7001,connect-timeout=3`], { input: big });
    await new Promise<void>((resolve) => { if (server.exitCode !== null) resolve(); else server.once('exit', () => resolve()); });
    assert.equal((await lab.host(2).execOk(['cat', '/run/c2-bytes'])).trim(), '100000');
    const before = await vxState(1);
    await apply(1);
    await apply(1);
    const afterApply = await vxState(1);
    assert.equal(afterApply, before);
    assert.equal(await box(1).tcp(ip(2), 7000), `c2 ${ip(1)}`);
  });

  it('removing a peer stops traffic to it (and only to it); adding it back restores it', async () => {
    await apply(1, [endpoint(3)]);
    assert.equal(await hostSh(1, ['ip', 'neigh', 'show', 'dev', names.vxlanName]), '10.0.9.4 lladdr 02:42:0a:00:09:04 PERMANENT');
    // (the bridge may still have learned c2's MAC on the VXLAN port: harmless, the device drops it)
    assert.deepEqual(await vxlanFdb(1), [`02:42:0a:00:09:04 dst ${lab.host(3).addr} self permanent`]);
    assert.ok(!(await box(1).ping(ip(2))), 'c1 -> c2 must fail without the peer');
    assert.equal(await box(1).tcp(ip(2), 7000, 2), undefined);
    assert.equal(await box(1).tcp(ip(3), 7000), `c3 ${ip(1)}`);
    // a peer pointing at the wrong host (a moved endpoint not yet updated) gets nothing either
    await apply(1, [{ ...endpoint(2), vtep: lab.host(3).addr }, endpoint(3)]);
    assert.equal(await box(1).tcp(ip(2), 7000, 2), undefined);
    await apply(1);
    assert.equal(await box(1).tcp(ip(2), 7000), `c2 ${ip(1)}`);
    const c2fdb = (await vxlanFdb(1)).filter((l) => l.startsWith('02:42:0a:00:09:03'));
    assert.deepEqual(c2fdb, [`02:42:0a:00:09:03 dst ${lab.host(2).addr} self permanent`], 'the moved entry is replaced, not added to');
  });

  it('a VXLAN device with other parameters is replaced; broadcasts never leave the host', async () => {
    await apply(1, all(), { vni: 4098 });
    assert.equal(JSON.parse(await lab.host(1).execOk(['ip', '-d', '-j', 'link', 'show', 'dev', names.vxlanName]))[0].linkinfo.info_data.id, 4098);
    assert.equal(await box(1).tcp(ip(2), 7000, 2), undefined, 'other VNI: isolated');
    await apply(1);
    assert.equal(await box(1).tcp(ip(2), 7000), `c2 ${ip(1)}`);
    // an address nobody announced: ARP is answered only from the neighbour table, so nothing
    // is flooded to other hosts and the request fails
    await box(2).execOk(['ip', 'addr', 'add', '10.0.9.99/24', 'dev', 'eth0']);
    assert.ok(!(await box(1).ping('10.0.9.99')), 'unannounced address must not answer');
    await box(2).execOk(['ip', 'addr', 'del', '10.0.9.99/24', 'dev', 'eth0']);
  });

  it('hostIp puts this node\'s own endpoint on the bridge (MAC from its address), reachable as a peer', async () => {
    const hostIp = '10.0.9.250';
    await apply(1, all(), { hostIp });
    const br = JSON.parse(await lab.host(1).execOk(['ip', '-j', 'addr', 'show', 'dev', names.bridgeName]))[0];
    assert.equal(br.address, '02:42:0a:00:09:fa');
    assert.deepEqual(br.addr_info.filter((a: { family: string }) => a.family === 'inet').map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`), ['10.0.9.250/24']);
    const node1: OverlayPeer = { ip: hostIp, mac: '02:42:0a:00:09:fa', vtep: lab.host(1).addr };
    await apply(2, [...all(), node1]);
    assert.ok(await box(2).ping(hostIp), 'c2 reaches node 1 itself over the overlay');
    assert.ok(await box(1).ping(hostIp), 'c1 reaches its own node on the bridge');
    // without hostIp the address goes away again
    await apply(1);
    await apply(2);
    const br2 = JSON.parse(await lab.host(1).execOk(['ip', '-j', 'addr', 'show', 'dev', names.bridgeName]))[0];
    assert.deepEqual(br2.addr_info.filter((a: { family: string }) => a.family === 'inet'), []);
  });

  it('detach + removeOverlay leave nothing behind', async () => {
    for (const i of [1, 2, 3]) {
      const exec = hostRunner(lab.host(i));
      await detachEndpoint(`vc${i}`, { exec });
      await removeOverlay(names, { exec });
      await removeOverlay(names, { exec }); // idempotent
      assert.equal(await hostSh(i, ['ip', '-br', 'link', 'show', 'type', 'vxlan']), '');
      assert.equal(await hostSh(i, ['ip', '-br', 'link', 'show', 'type', 'bridge']), '');
      assert.deepEqual((await hostSh(i, ['ip', '-o', 'link'])).split('\n').map((l) => l.split(':')[1]!.trim().split('@')[0]), ['lo', 'eth0']);
      assert.equal(await box(i).execOk(['ip', '-br', 'link', 'show', 'dev', 'eth0']).catch(() => 'gone'), 'gone');
    }
  });
});
