// Service load balancing with nftables (src/engine/networks/service-lb.ts) over real overlays
// (overlay.ts) between three lab hosts, no daemon. Three backends (b1..b3, one per host) answer
// "<name> <client address as they see it>" on port 80 (TCP and UDP). They sit on a service
// overlay (VIP tests, client c on h1) and on the ingress overlay (routing mesh tests, clients in
// the lab namespace outside every host, and on the nodes themselves).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyOverlay, attachEndpoint, overlayLinkNames, removeOverlay, type OverlayNet, type OverlayPeer } from '../src/engine/networks/overlay.js';
import { applyIngress, applyVips, removeLbTable, INGRESS_TABLE, VIP_TABLE, type PublishedPort } from '../src/engine/networks/service-lb.js';
import { ipToInt, macFor } from '../src/engine/networks/ipam.js';
import { createLab, type Host, type Lab } from './harness/hosts.js';
import { hostRunner, makeBox, type Box } from './harness/boxes.js';

const SVC = { id: 'svcnet0000000000', vni: 4097, subnet: '10.0.1.0/24', ...overlayLinkNames('svcnet0000000000') };
const ING = { id: 'ingress000000000', vni: 4096, subnet: '10.0.0.0/24', ...overlayLinkNames('ingress000000000') };
const VIP = '10.0.1.2';
const svcIp = (i: number) => `10.0.1.${4 + i}`; // b1 .5, b2 .6, b3 .7
const CLIENT_IP = '10.0.1.10';
const ingIp = (i: number) => `10.0.0.${4 + i}`; // b1 .5, b2 .6, b3 .7
const nodeIp = (i: number) => `10.0.0.${1 + i}`; // h1 .2, h2 .3, h3 .4

/** how many answers came from each backend, e.g. { b1: 10, b2: 10, b3: 10 } */
function tally(answers: (string | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const k = a?.split(' ')[0] ?? 'none';
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

describe('service load balancing with nftables (VIPs, ingress routing mesh)', () => {
  let lab: Lab;
  const backends: Box[] = [];
  let client: Box;
  const peer = (ip: string, h: Host): OverlayPeer => ({ ip, mac: macFor(ipToInt(ip)), vtep: h.addr });
  const svcPeers = (): OverlayPeer[] => [...[1, 2, 3].map((i) => peer(svcIp(i), lab.host(i))), peer(CLIENT_IP, lab.host(1))];
  const ingPeers = (): OverlayPeer[] => [1, 2, 3].flatMap((i) => [peer(ingIp(i), lab.host(i)), peer(nodeIp(i), lab.host(i))]);
  const ingNet = (i: number): OverlayNet => ({ ...ING, localVtep: lab.host(i).addr, hostIp: nodeIp(i) });
  const svcNet = (i: number): OverlayNet => ({ ...SVC, localVtep: lab.host(i).addr });
  /** TCP request from the lab namespace (a client outside the swarm) */
  const external = async (ip: string, port: number, wait = 5): Promise<string | undefined> => {
    const r = await lab.exec(['socat', '-t', String(wait), '-T', String(wait), '-', `TCP:${ip}:${port},connect-timeout=${wait}`], { input: '', timeoutMs: (wait + 10) * 1000 });
    return r.code === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
  };
  const serial = async <T>(n: number, fn: () => Promise<T>): Promise<T[]> => {
    const out: T[] = [];
    for (let k = 0; k < n; k++) out.push(await fn());
    return out;
  };
  const mesh = (over: Partial<PublishedPort> = {}): PublishedPort => ({ name: 'web', proto: 'tcp', publishedPort: 8080, targetPort: 80, backends: [1, 2, 3].map(ingIp), ...over });

  before(async () => {
    lab = await createLab({ hosts: 3 });
    for (const i of [1, 2, 3]) {
      const h = lab.host(i);
      const exec = hostRunner(h);
      await applyOverlay(svcNet(i), svcPeers(), { exec });
      await applyOverlay(ingNet(i), ingPeers(), { exec });
      const b = await makeBox(h, `b${i}`);
      backends.push(b);
      await attachEndpoint(svcNet(i), { netns: b.path, hostIf: `vs${i}`, ifname: 'eth0', ip: svcIp(i) }, { exec });
      // replies to clients the mesh does not SNAT (preserve mode) go back through the own node
      await attachEndpoint(ingNet(i), { netns: b.path, hostIf: `vi${i}`, ifname: 'eth1', ip: ingIp(i), gateway: nodeIp(i) }, { exec });
      b.serveTcp(80, `b${i}`);
      b.serveUdp(80, `b${i}`);
      // a slow answer, for a connection that outlives a table replacement
      b.start(['socat', '-t', '8', 'TCP-LISTEN:81,fork,reuseaddr', `SYSTEM:echo b${i}; sleep 2; echo bye`]);
    }
    client = await makeBox(lab.host(1), 'c');
    await attachEndpoint(svcNet(1), { netns: client.path, hostIf: 'vc', ifname: 'eth0', ip: CLIENT_IP }, { exec: hostRunner(lab.host(1)) });
    // the servers are up once every backend answers directly
    for (let t = 0; ; t++) {
      const ok = await Promise.all([1, 2, 3].map((i) => client.tcp(svcIp(i), 80)));
      if (ok.every(Boolean)) break;
      if (t > 50) throw new Error(`backends do not answer: ${JSON.stringify(ok)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    for (const b of [...backends, client]) await b?.remove().catch(() => undefined);
    await lab?.destroy();
  });

  const vipOpts = () => ({ netns: client.path, exec: hostRunner(lab.host(1)) });

  it('VIP: 30 connections are spread round robin over the 3 backends, which see the real client', async () => {
    await applyVips([{ name: 'web', vip: VIP, backends: [1, 2, 3].map(svcIp) }], vipOpts());
    const answers = await serial(30, () => client.tcp(VIP, 80));
    assert.deepEqual(tally(answers), { b1: 10, b2: 10, b3: 10 });
    assert.ok(answers.every((a) => a!.endsWith(` ${CLIENT_IP}`)), `no SNAT on the VIP path: ${answers[0]}`);
    // any port of the VIP, and UDP too
    assert.match((await client.udp(VIP, 80)) ?? '', /^b[123] 10\.0\.1\.10$/);
    // random mode spreads too (30 draws from 3: all hit except with probability ~1e-5)
    await applyVips([{ vip: VIP, backends: [1, 2, 3].map(svcIp) }], { ...vipOpts(), mode: 'random' });
    assert.deepEqual(Object.keys(tally(await serial(30, () => client.tcp(VIP, 80)))).sort(), ['b1', 'b2', 'b3']);
  });

  it('VIP: a backend removed gets no new connections; a connection open on it survives the replacement', async () => {
    await applyVips([{ vip: VIP, backends: [svcIp(2)] }], vipOpts());
    const slow = client.exec(['socat', '-t', '8', '-T', '8', '-', `TCP:${VIP}:81,connect-timeout=3`], { input: '', timeoutMs: 15_000 });
    for (let t = 0; !(await backends[1]!.execOk(['ss', '-Htn', '( sport = :81 )'])).trim(); t++) {
      if (t > 100) throw new Error('the slow connection to b2 was not established');
      await new Promise((r) => setTimeout(r, 50));
    }
    await applyVips([{ vip: VIP, backends: [svcIp(1), svcIp(3)] }], vipOpts());
    const answers = await serial(30, () => client.tcp(VIP, 80));
    assert.deepEqual(tally(answers), { b1: 15, b3: 15 });
    const r = await slow;
    assert.equal(r.stdout.trim().split('\n').join(' '), 'b2 bye', `the established connection stays on b2: ${r.stderr}`);
  });

  it('VIP: no backends (or a port not served) is rejected at once, not left to time out', async () => {
    await applyVips([{ vip: VIP, backends: [] }, { vip: '10.0.1.3', backends: [svcIp(1)], ports: [{ proto: 'tcp', port: 80 }] }], vipOpts());
    const t0 = Date.now();
    const r = await client.exec(['socat', '-', `TCP:${VIP}:80,connect-timeout=3`], { input: '' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Connection refused/);
    assert.ok(Date.now() - t0 < 2000, 'rejected, not timed out');
    assert.equal(await client.tcp('10.0.1.3', 80), `b1 ${CLIENT_IP}`);
    const r2 = await client.exec(['socat', '-', 'TCP:10.0.1.3:81,connect-timeout=3'], { input: '' });
    assert.match(r2.stderr, /Connection refused/);
    await removeLbTable(VIP_TABLE, vipOpts());
    await removeLbTable(VIP_TABLE, vipOpts()); // missing is fine
    assert.equal((await client.execOk(['nft', 'list', 'tables'])).trim(), '');
  });

  it('routing mesh: a published port answers on every node and spreads over the tasks of all nodes', async () => {
    for (const i of [1, 2, 3]) await applyIngress({ bridge: ING.bridgeName, nodeIp: nodeIp(i), ports: [mesh()] }, { exec: hostRunner(lab.host(i)) });
    for (const i of [1, 2, 3]) {
      const answers = await serial(30, () => external(lab.host(i).addr, 8080));
      assert.deepEqual(tally(answers), { b1: 10, b2: 10, b3: 10 }, `via ${lab.host(i).name}`);
      // SNATed to the receiving node's ingress address, so replies return through it
      assert.ok(answers.every((a) => a!.endsWith(` ${nodeIp(i)}`)), `via ${lab.host(i).name}: ${answers.join(', ')}`);
    }
    // from the node itself: its own address and 127.0.0.1
    const h2 = lab.host(2);
    for (const addr of [h2.addr, '127.0.0.1']) {
      const r = await h2.exec(['socat', '-t', '5', '-T', '5', '-', `TCP:${addr}:8080,connect-timeout=5`], { input: '' });
      assert.match(r.stdout.trim(), /^b[123] 10\.0\.0\.3$/, `${addr}: ${r.stderr}`);
    }
    // the ingress network is not routable except through the mesh
    await lab.exec(['ip', 'route', 'add', ING.subnet, 'via', lab.host(1).addr]);
    try {
      assert.equal(await external(ingIp(2), 80, 2), undefined, 'direct access to a task on the ingress network must fail');
    } finally {
      await lab.exec(['ip', 'route', 'del', ING.subnet, 'via', lab.host(1).addr]);
    }
  });

  it('routing mesh: a task removed from the set gets no new connections; UDP; no tasks rejects', async () => {
    const ports: PublishedPort[] = [
      mesh({ backends: [ingIp(1), ingIp(3)] }),
      { proto: 'udp', publishedPort: 5300, targetPort: 80, backends: [ingIp(2)] },
      { proto: 'tcp', publishedPort: 9000, targetPort: 80, backends: [] },
    ];
    await applyIngress({ bridge: ING.bridgeName, nodeIp: nodeIp(2), ports }, { exec: hostRunner(lab.host(2)) });
    assert.deepEqual(tally(await serial(30, () => external(lab.host(2).addr, 8080))), { b1: 15, b3: 15 });
    const u = await lab.exec(['socat', '-t', '2', '-T', '2', '-', `UDP:${lab.host(2).addr}:5300`], { input: 'x\n' });
    assert.equal(u.stdout.trim(), `b2 ${nodeIp(2)}`);
    const r = await lab.exec(['socat', '-', `TCP:${lab.host(2).addr}:9000,connect-timeout=3`], { input: '' });
    assert.match(r.stderr, /Connection refused/);
  });

  it('routing mesh, preserve-client-IP port: local task only, real client address, nodes without one reject', async () => {
    await applyIngress({ bridge: ING.bridgeName, nodeIp: nodeIp(1), ports: [mesh(), { proto: 'tcp', publishedPort: 8443, targetPort: 80, backends: [ingIp(1)], preserveClientIp: true }] }, { exec: hostRunner(lab.host(1)) });
    await applyIngress({ bridge: ING.bridgeName, nodeIp: nodeIp(3), ports: [mesh(), { proto: 'tcp', publishedPort: 8443, targetPort: 80, backends: [], preserveClientIp: true }] }, { exec: hostRunner(lab.host(3)) });
    const answers = await serial(5, () => external(lab.host(1).addr, 8443));
    assert.deepEqual(answers, Array(5).fill(`b1 ${lab.addr}`));
    const r = await lab.exec(['socat', '-', `TCP:${lab.host(3).addr}:8443,connect-timeout=3`], { input: '' });
    assert.match(r.stderr, /Connection refused/);
    // the mesh port of the same node still SNATs
    assert.match((await external(lab.host(1).addr, 8080)) ?? '', / 10\.0\.0\.2$/);
  });

  it('tables and overlays are removed without leftovers', async () => {
    for (const i of [1, 2, 3]) {
      const exec = hostRunner(lab.host(i));
      await removeLbTable(INGRESS_TABLE, { exec });
      assert.equal((await lab.host(i).execOk(['nft', 'list', 'tables'])).trim(), '');
      assert.equal(await external(lab.host(i).addr, 8080), undefined);
    }
    for (const b of [...backends, client]) await b.remove();
    for (const i of [1, 2, 3]) {
      const exec = hostRunner(lab.host(i));
      await removeOverlay(SVC, { exec });
      await removeOverlay(ING, { exec });
      const links = (await lab.host(i).execOk(['ip', '-o', 'link'])).trim().split('\n').map((l) => l.split(':')[1]!.trim().split('@')[0]);
      assert.deepEqual(links, ['lo', 'eth0']);
    }
  });
});
