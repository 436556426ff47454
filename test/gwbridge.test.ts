// docker_gwbridge and the routing mesh's client address, on a 3-node swarm (h1 manager, h2-h3
// workers), driven by the docker CLI: every node has docker_gwbridge after init/join; tasks and
// standalone containers only on overlays go out (and reach the embedded DNS) through a hidden
// endpoint on it, without ICC between them; it follows network connect/disconnect, is refused to
// `network rm` while used, stays after `swarm leave` (as Docker), comes back on a daemon restart, and a user's own
// docker_gwbridge (own subnet) made before joining is used as it is. Then a service labelled
// com.shoal.ingress.preserve-client-ip=true: its tasks see the client's own address through the mesh.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Host, Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { dockerOk, until } from './harness/checks.js';

const HTTPD = (text: string) => `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;
/** busybox httpd whose CGI script /cgi-bin/ip prints the client address it sees */
const WHOAMI = `mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain; echo; echo $REMOTE_ADDR\\n' > /www/cgi-bin/ip && chmod +x /www/cgi-bin/ip && exec httpd -f -p 80 -h /www`;
const OUTSIDE_PORT = 9999;

describe('docker_gwbridge', () => {
  let lab: Lab;
  let h: Host[];
  let outside: ChildProcess | undefined;
  /** a command in a container, its stdout trimmed ('' when it fails) */
  const inCtr = async (host: Host, ctr: string, cmd: string): Promise<string> => {
    const r = await host.docker(['exec', ctr, 'sh', '-c', cmd], { timeoutMs: 30_000 });
    return r.code === 0 ? r.stdout.trim() : '';
  };
  const tasksOf = async (host: Host, svc: string): Promise<string[]> =>
    (await dockerOk(host, ['ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${svc}`])).split('\n').filter(Boolean);
  const gwInspect = async (host: Host): Promise<any> => JSON.parse(await dockerOk(host, ['network', 'inspect', 'docker_gwbridge']))[0];
  const gwAddr = async (host: Host, id: string): Promise<string | undefined> => (await gwInspect(host)).Containers[id]?.IPv4Address.split('/')[0];
  const networksOf = async (host: Host, id: string): Promise<string[]> => Object.keys(JSON.parse(await dockerOk(host, ['inspect', '-f', '{{json .NetworkSettings.Networks}}', id]))).sort();
  const curl = async (url: string) => lab.exec(['curl', '-s', '-m', '3', url]);
  /** the client address the CGI script saw (busybox httpd listens on IPv6 too: `[::ffff:a.b.c.d]`) */
  const seenBy = async (x: Host, port: number): Promise<string> => (await curl(`http://${x.addr}:${port}/cgi-bin/ip`)).stdout.trim().replace(/^\[(::ffff:)?|\]$/g, '');

  before(async () => {
    lab = await createSwarmLab({ hosts: 3 });
    h = lab.hosts;
    // something outside the swarm's hosts (the lab namespace) saying who connected
    outside = spawn('nsenter', [`--net=/run/netns/${lab.netns}`, 'socat', `TCP-LISTEN:${OUTSIDE_PORT},fork,reuseaddr`, 'SYSTEM:echo $SOCAT_PEERADDR'], { stdio: 'ignore' });
  });
  after(async () => {
    outside?.kill('SIGKILL');
    await lab?.destroy();
  });

  it('every node has docker_gwbridge after init/join: Docker\'s subnet, gateway and options, scope local', async () => {
    for (const x of h) {
      await until(`${x.name}: docker_gwbridge listed`, async () => (await dockerOk(x, ['network', 'ls', '--filter', 'name=docker_gwbridge', '--format', '{{.Name}} {{.Driver}} {{.Scope}}'])) === 'docker_gwbridge bridge local', 10_000);
      const n = await gwInspect(x);
      assert.deepEqual(n.IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }] });
      assert.deepEqual(n.Options, { 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.name': 'docker_gwbridge' });
      assert.deepEqual([n.Internal, n.Attachable, n.Ingress, n.Containers], [false, false, false, {}]);
      assert.match(await x.execOk(['ip', '-o', '-4', 'addr', 'show', 'dev', 'docker_gwbridge']), /inet 172\.18\.0\.1\/16/);
    }
  });

  it('tasks only on an overlay: inspect shows the overlay alone, the way out is their hidden docker_gwbridge endpoint', async () => {
    await dockerOk(h[0], ['network', 'create', '-d', 'overlay', '--attachable', 'ovnet']);
    await dockerOk(h[0], ['service', 'create', '--detach', '--name', 'web', '--replicas', '2', '--constraint', 'node.hostname==h2', '--network', 'ovnet', 'busybox', 'sh', '-c', HTTPD('web')]);
    await until('2 web tasks on h2', async () => (await tasksOf(h[1], 'web')).length === 2, 60_000);
    const [a, b] = await tasksOf(h[1], 'web');
    assert.deepEqual(await networksOf(h[1], a), ['ovnet']);
    assert.equal(await dockerOk(h[1], ['inspect', '-f', '{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.Gateway}}', a]), '|');
    const gw = await gwInspect(h[1]);
    for (const id of [a, b]) {
      assert.equal(gw.Containers[id]?.Name, `gateway_${id.slice(0, 12)}`);
      assert.match(gw.Containers[id].IPv4Address, /^172\.18\.0\.\d+\/16$/);
      assert.match(gw.Containers[id].MacAddress, /^02:42:ac:12:00:[0-9a-f]{2}$/);
    }
    // the default route goes through docker_gwbridge, and what leaves is masqueraded to the node's address
    const gwIp = gw.Containers[a].IPv4Address.split('/')[0];
    assert.match(await inCtr(h[1], a, 'ip route'), /^default via 172\.18\.0\.1 dev eth\d/m);
    assert.match(await inCtr(h[1], a, `ip route get ${lab.addr}`), new RegExp(`via 172\\.18\\.0\\.1 dev eth\\d+ +src ${gwIp.replace(/\./g, '\\.')}`));
    assert.equal(await inCtr(h[1], a, `timeout 5 nc ${lab.addr} ${OUTSIDE_PORT} </dev/null`), h[1].addr);
    // nothing of it on the default bridge
    assert.deepEqual(JSON.parse(await dockerOk(h[1], ['network', 'inspect', '-f', '{{json .Containers}}', 'bridge'])), {});
    assert.equal(await inCtr(h[1], a, 'cat /etc/resolv.conf | grep nameserver'), 'nameserver 127.0.0.11');
  });

  it('no ICC on docker_gwbridge: two tasks on one node reach each other over the overlay only', async () => {
    const [a, b] = await tasksOf(h[1], 'web');
    const bGw = (await gwAddr(h[1], b))!;
    const bOv = await dockerOk(h[1], ['inspect', '-f', '{{.NetworkSettings.Networks.ovnet.IPAddress}}', b]);
    assert.equal(await inCtr(h[1], a, `timeout 5 wget -qO- http://${bOv}/`), 'web');
    // b serves on its docker_gwbridge address (the node reaches it), but a does not get there
    assert.equal((await h[1].execOk(['curl', '-s', '-m', '3', `http://${bGw}/`])).trim(), 'web');
    assert.equal(await inCtr(h[1], a, `timeout 3 wget -qO- http://${bGw}/`), '', 'docker_gwbridge does not connect containers');
  });

  it('the embedded DNS answers through docker_gwbridge: the service (VIP), tasks.<service>', async () => {
    const [a] = await tasksOf(h[1], 'web');
    const vip = (await dockerOk(h[0], ['service', 'inspect', '-f', '{{(index .Endpoint.VirtualIPs 0).Addr}}', 'web'])).split('/')[0];
    await until('web resolves to its VIP', async () => (await inCtr(h[1], a, 'nslookup web')).includes(`Address: ${vip}`), 20_000);
    assert.equal((await inCtr(h[1], a, 'nslookup tasks.web')).match(/Address: 10\.0\.\d+\.\d+/g)?.length, 2);
    assert.equal(await inCtr(h[1], a, 'timeout 5 wget -qO- http://web/'), 'web');
  });

  it('standalone containers only on the overlay go out through it too; network connect/disconnect of a bridge moves the way out', async () => {
    const id = await dockerOk(h[2], ['run', '-d', '--name', 'c1', '--network', 'ovnet', 'busybox', 'sleep', '600']);
    assert.deepEqual(await networksOf(h[2], id), ['ovnet']);
    assert.equal((await gwInspect(h[2])).Containers[id]?.Name, `gateway_${id.slice(0, 12)}`);
    assert.equal(await inCtr(h[2], 'c1', `timeout 5 nc ${lab.addr} ${OUTSIDE_PORT} </dev/null`), h[2].addr);
    await until('c1 reaches web by its VIP', async () => (await inCtr(h[2], 'c1', 'timeout 5 wget -qO- http://web/')) === 'web', 20_000);
    // Docker's needDefaultGW: a network with a gateway takes over, and docker_gwbridge comes back without it
    await dockerOk(h[2], ['network', 'connect', 'bridge', 'c1']);
    assert.equal((await gwInspect(h[2])).Containers[id], undefined);
    const bridgeGw = await dockerOk(h[2], ['inspect', '-f', '{{.NetworkSettings.Networks.bridge.Gateway}}', 'c1']);
    assert.match(await inCtr(h[2], 'c1', 'ip route'), new RegExp(`^default via ${bridgeGw.replace(/\./g, '\\.')} `, 'm'));
    assert.equal(await inCtr(h[2], 'c1', 'timeout 5 wget -qO- http://web/'), 'web', 'names still answered');
    await dockerOk(h[2], ['network', 'disconnect', 'bridge', 'c1']);
    assert.match((await gwInspect(h[2])).Containers[id]?.IPv4Address ?? '', /^172\.18\.0\.\d+\/16$/);
    assert.match(await inCtr(h[2], 'c1', 'ip route'), /^default via 172\.18\.0\.1 /m);
    assert.equal(await inCtr(h[2], 'c1', `timeout 5 nc ${lab.addr} ${OUTSIDE_PORT} </dev/null`), h[2].addr);
    assert.equal(await inCtr(h[2], 'c1', 'timeout 5 wget -qO- http://web/'), 'web');
  });

  it('host-mode ports of a task only on an overlay lead to its docker_gwbridge address', async () => {
    await dockerOk(h[0], ['service', 'create', '--detach', '--name', 'hm', '--constraint', 'node.hostname==h2', '--network', 'ovnet',
      '--publish', 'published=9191,target=80,mode=host', 'busybox', 'sh', '-c', HTTPD('hostmode')]);
    await until('h2:9191 answers', async () => (await curl(`http://${h[1].addr}:9191/`)).stdout.trim() === 'hostmode', 60_000);
    await dockerOk(h[0], ['service', 'rm', 'hm']);
  });

  it('network rm docker_gwbridge is refused while used; swarm leave keeps it (as Docker), unused it can go; a daemon restart in a swarm makes it again', async () => {
    const busy = await h[2].docker(['network', 'rm', 'docker_gwbridge']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /error while removing network: network docker_gwbridge id [0-9a-f]{64} has active endpoints/);
    await dockerOk(h[2], ['rm', '-f', 'c1']);
    await dockerOk(h[2], ['swarm', 'leave']);
    assert.notEqual(await dockerOk(h[2], ['network', 'ls', '--filter', 'name=docker_gwbridge', '-q']), '');
    await dockerOk(h[2], ['network', 'rm', 'docker_gwbridge']);
    assert.equal(await dockerOk(h[2], ['network', 'ls', '--filter', 'name=docker_gwbridge', '-q']), '');
    assert.notEqual((await h[2].exec(['ip', 'link', 'show', 'docker_gwbridge'])).code, 0, 'the bridge device is gone');
    // h1 runs nothing on it: it can go, and a restarted daemon of a swarm node makes it again
    await dockerOk(h[0], ['network', 'rm', 'docker_gwbridge']);
    await h[0].stopDaemon();
    await h[0].startDaemon();
    await until('h1: docker_gwbridge back', async () => (await h[0].docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'docker_gwbridge'])).stdout.trim() === '172.18.0.0/16', 30_000);
    await until('h1 manages the swarm again', async () => (await h[0].docker(['node', 'ls', '-q'])).code === 0, 60_000);
  });

  it('a docker_gwbridge made by the user before joining is kept, with its own subnet', async () => {
    const mine = await dockerOk(h[2], ['network', 'create', '--subnet', '10.99.0.0/16', '--opt', 'com.docker.network.bridge.name=docker_gwbridge',
      '--opt', 'com.docker.network.bridge.enable_icc=false', '--opt', 'com.docker.network.bridge.enable_ip_masquerade=true', 'docker_gwbridge']);
    const token = await dockerOk(h[0], ['swarm', 'join-token', '-q', 'worker']);
    await dockerOk(h[2], ['swarm', 'join', '--token', token, `${h[0].addr}:2377`], { timeoutMs: 120_000 });
    assert.equal((await gwInspect(h[2])).Id, mine);
    const id = await dockerOk(h[2], ['run', '-d', '--name', 'c2', '--network', 'ovnet', 'busybox', 'sleep', '600']);
    assert.match((await gwAddr(h[2], id)) ?? '', /^10\.99\.0\.\d+$/);
    assert.match(await inCtr(h[2], 'c2', 'ip route'), /^default via 10\.99\.0\.1 /m);
    assert.equal(await inCtr(h[2], 'c2', `timeout 5 nc ${lab.addr} ${OUTSIDE_PORT} </dev/null`), h[2].addr);
    await until('c2 reaches web by its VIP', async () => (await inCtr(h[2], 'c2', 'timeout 5 wget -qO- http://web/')) === 'web', 20_000);
    await dockerOk(h[2], ['rm', '-f', 'c2']);
  });

  describe('the routing mesh keeps the client address with com.shoal.ingress.preserve-client-ip=true', () => {
    it('a labelled service sees the client; another sees the node\'s ingress address; a node without a task refuses', async () => {
      await dockerOk(h[0], ['service', 'create', '--detach', '--name', 'keep', '--label', 'com.shoal.ingress.preserve-client-ip=true', '--constraint', 'node.hostname==h2',
        '--publish', '8088:80', 'busybox', 'sh', '-c', WHOAMI]);
      await dockerOk(h[0], ['service', 'create', '--detach', '--name', 'snat', '--constraint', 'node.hostname==h2', '--publish', '8089:80', 'busybox', 'sh', '-c', WHOAMI]);
      await until('h2:8088 answers with the client address', async () => (await seenBy(h[1], 8088)) === lab.addr, 60_000);
      for (let i = 0; i < 3; i++) assert.equal((await seenBy(h[1], 8088)), lab.addr);
      // without the label: SNAT to the receiving node's own address on ingress
      const ingressSubnet = await dockerOk(h[0], ['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'ingress']);
      const prefix = ingressSubnet.split('.').slice(0, 3).join('.');
      const h2Ingress = (await h[1].execOk(['ip', '-o', '-4', 'addr'])).match(new RegExp(`inet (${prefix.replace(/\./g, '\\.')}\\.\\d+)/`))?.[1];
      assert.ok(h2Ingress, 'h2 has its address on ingress');
      await until('h2:8089 answers with h2\'s ingress address', async () => (await seenBy(h[1], 8089)) === h2Ingress, 30_000);
      // the unlabelled service answers on every node; the labelled one only where its task runs
      await until('h1:8089 answers through the mesh', async () => (await seenBy(h[0], 8089)).startsWith(`${prefix}.`), 30_000);
      const refused = await curl(`http://${h[0].addr}:8088/cgi-bin/ip`);
      assert.equal(refused.code, 7, `curl: connection refused on h1 (no task there): ${refused.stderr}`);
      // the label given later, and taken away again, switches the node views
      await dockerOk(h[0], ['service', 'update', '--detach', '--label-add', 'com.shoal.ingress.preserve-client-ip=true', 'snat']);
      await until('h2:8089 now answers with the client address', async () => (await seenBy(h[1], 8089)) === lab.addr, 30_000);
      await dockerOk(h[0], ['service', 'update', '--detach', '--label-rm', 'com.shoal.ingress.preserve-client-ip', 'keep']);
      await until('h1:8088 answers through the mesh again, SNATed', async () => (await seenBy(h[0], 8088)).startsWith(`${prefix}.`), 30_000);
      await dockerOk(h[0], ['service', 'rm', 'keep', 'snat', 'web']);
    });
  });
});
