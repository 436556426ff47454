// Overlay networks on a 3-node swarm (1 manager + 2 workers): a swarm-scoped network made with the
// docker CLI, services on it whose tasks on different hosts reach each other over VXLAN by task
// address, by `tasks.<service>`, and by the service's VIP (balanced in the kernel over every
// task), dnsrr names, --network-add on a running service, and the cleanup when it all goes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { dockerOk, nslookupAddrs, until } from './harness/checks.js';

describe('overlay networks', () => {
  let lab: Lab;
  let h: Host[];
  const dk = (host: Host, args: string[]): Promise<string> => dockerOk(host, args, { timeoutMs: 120_000 });
  /** a running task container of `svc`: its host and id */
  const taskOf = async (svc: string): Promise<{ host: Host; id: string }[]> => (await Promise.all(h.map(async (x) =>
    (await dk(x, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${svc}`])).split('\n').filter(Boolean).map((id) => ({ host: x, id }))))).flat();
  const inCli = async (cmd: string): Promise<string> => {
    const [c] = await taskOf('cli');
    const r = await c.host.docker(['exec', c.id, 'sh', '-c', cmd], { timeoutMs: 30_000 });
    return r.stdout.trim();
  };
  const ips = nslookupAddrs;

  before(async () => {
    lab = await createSwarmLab({ hosts: 3 });
    h = lab.hosts;
  });
  after(async () => { await lab?.destroy(); });

  it('network create -d overlay: a swarm-scoped network with a subnet from the pool, on managers only', async () => {
    const id = await dk(h[0], ['network', 'create', '-d', 'overlay', 'ovnet']);
    assert.match(id, /^[0-9a-z]{25}$/);
    assert.match(await dk(h[0], ['network', 'ls', '--filter', 'name=ovnet', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']), /^ovnet overlay swarm$/);
    const n = JSON.parse(await dk(h[0], ['network', 'inspect', 'ovnet']))[0];
    // ingress is 10.255.0.0/16 (gateway .1), as the books show it; overlays start at 10.0.0.0/24
    assert.deepEqual(JSON.parse(await dk(h[0], ['network', 'inspect', 'ingress']))[0].IPAM.Config[0], { Subnet: '10.255.0.0/16', Gateway: '10.255.0.1' });
    assert.equal(n.IPAM.Config[0].Subnet, '10.0.0.0/24');
    assert.match(n.Options['com.docker.network.driver.overlay.vxlanid_list'], /^\d+$/);
    // a worker carries it only once one of its tasks uses it (ingress: every node)
    assert.equal(await dk(h[1], ['network', 'ls', '--filter', 'name=ovnet', '-q']), '');
    await until('ingress on a worker', async () => (await dk(h[1], ['network', 'ls', '--filter', 'name=ingress', '--format', '{{.Name}} {{.Scope}}'])) === 'ingress swarm', 20_000);
    const dup = await h[0].docker(['network', 'create', '-d', 'overlay', 'ovnet']);
    assert.notEqual(dup.code, 0);
    assert.match(dup.stderr, /network with name ovnet already exists/);
  });

  it('tasks on different hosts reach each other by address, tasks.<service> and the VIP, which spreads over every task', async () => {
    await dk(h[0], ['service', 'create', '--detach', '--name', 'srv', '--replicas', '1', '--network', 'ovnet', '--hostname', '{{.Service.Name}}.{{.Task.Slot}}',
      'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']);
    await dk(h[0], ['service', 'create', '--detach', '--name', 'cli', '--network', 'ovnet', '--constraint', 'node.hostname==h2', 'busybox', 'sleep', '600']);
    await until('cli and srv running', async () => (await taskOf('cli')).length === 1 && (await taskOf('srv')).length === 1, 30_000);
    // inspect on h2 lists the network's nodes as Docker's Peers: h2 itself and the node of srv's task
    const srvHost = (await taskOf('srv'))[0].host;
    const peers = async () => (await dk(h[1], ['network', 'inspect', '-f', '{{range .Peers}}{{.Name}}={{.IP}} {{end}}', 'ovnet'])).split(' ').filter(Boolean);
    await until('h2 lists the peers', async () => (await peers()).length === new Set([h[1].addr, srvHost.addr]).size, 20_000);
    for (const p of await peers()) assert.match(p, /^[0-9a-f]{12}=10\.213\.0\.1[123]$/);
    assert.deepEqual((await peers()).map((p) => p.split('=')[1]).sort(), [...new Set([h[1].addr, srvHost.addr])].sort());
    const vip = JSON.parse(await dk(h[0], ['service', 'inspect', '-f', '{{json .Endpoint.VirtualIPs}}', 'srv']))[0];
    assert.equal(vip.Addr, `${vip.Addr.split('/')[0]}/24`);
    assert.match(await dk(h[0], ['service', 'inspect', '-f', '{{.Endpoint.Spec.Mode}}', 'srv']), /^vip$/);
    // scale 1 -> 3: one task per node, the VIP reaches all three
    await dk(h[0], ['service', 'scale', '--detach', 'srv=3']);
    await until('3 srv tasks', async () => (await taskOf('srv')).length === 3, 30_000);
    await until('tasks.srv lists 3 addresses', async () => ips(await inCli('nslookup tasks.srv'), 'tasks.srv').length === 3, 20_000);
    const taskIps = ips(await inCli('nslookup tasks.srv'), 'tasks.srv');
    assert.deepEqual(ips(await inCli('nslookup srv'), 'srv'), [vip.Addr.split('/')[0]]);
    const hosts = new Set<string>();
    for (const ip of taskIps) hosts.add(await inCli(`wget -qO- http://${ip}/`));
    assert.deepEqual([...hosts].sort(), ['srv.1', 'srv.2', 'srv.3'], 'every task answers on its own address, across hosts');
    await until('the VIP reaches every task', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add(await inCli('wget -qO- http://srv/'));
      return seen.size === 3 && [...seen].every((x) => /^srv\.[123]$/.test(x));
    }, 20_000);
  });

  it('dnsrr: the service name resolves to the task addresses', async () => {
    await dk(h[0], ['service', 'create', '--detach', '--name', 'rr', '--replicas', '2', '--endpoint-mode', 'dnsrr', '--network', 'ovnet', 'busybox', 'sleep', '600']);
    await until('rr resolves to 2 task addresses', async () => ips(await inCli('nslookup rr'), 'rr').length === 2, 30_000);
    assert.deepEqual(ips(await inCli('nslookup rr'), 'rr'), ips(await inCli('nslookup tasks.rr'), 'tasks.rr'));
    assert.equal(await dk(h[0], ['service', 'inspect', '-f', '{{len .Endpoint.VirtualIPs}}', 'rr']), '0');
    await dk(h[0], ['service', 'rm', 'rr']);
  });

  it('--network-add puts a running service on a second overlay', async () => {
    await dk(h[0], ['network', 'create', '-d', 'overlay', 'ovnet2']);
    await dk(h[0], ['service', 'create', '--detach', '--name', 'other', '--network', 'ovnet2', '--hostname', 'other', 'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']);
    await until('other running', async () => (await taskOf('other')).length === 1, 30_000);
    // names are scoped to the networks a container shares: cli (ovnet only) does not see other (ovnet2)
    assert.deepEqual(ips(await inCli('nslookup other 2>&1'), 'other'), []);
    await dk(h[0], ['service', 'update', '--detach', '--network-add', 'ovnet2', 'cli']);
    await until('cli reaches other on ovnet2', async () => (await inCli('wget -qO- http://other/').catch(() => '')) === 'other', 40_000);
  });

  it('the routing mesh: a published port answers on every node, also one without a task, over all tasks', async () => {
    await dk(h[0], ['service', 'create', '--detach', '--name', 'pub', '--replicas', '2', '--constraint', 'node.hostname!=h3', '-p', '8080:80', '--hostname', '{{.Service.Name}}.{{.Task.Slot}}',
      'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']);
    await until('PORTS *:8080->80/tcp', async () => /^\*:8080->80\/tcp$/.test(await dk(h[0], ['service', 'ls', '--filter', 'name=pub', '--format', '{{.Ports}}'])), 10_000);
    const get = async (x: Host) => (await lab.exec(['curl', '-s', '-m', '3', `http://${x.addr}:8080/`])).stdout.trim();
    for (const x of h) {
      await until(`${x.name}:8080 answers both tasks`, async () => {
        const seen = new Set<string>();
        for (let i = 0; i < 6; i++) seen.add(await get(x));
        return seen.size === 2 && [...seen].every((v) => /^pub\.[12]$/.test(v));
      }, 30_000);
    }
    assert.equal((await taskOf('pub')).filter((t) => t.host === h[2]).length, 0, 'h3 has no task and still answered');
    // a node whose daemon dies drops out of rotation: the port keeps answering from the others
    await h[1].killDaemon();
    await until('every request answered again, by the tasks left', async () => {
      for (let i = 0; i < 6; i++) if (!/^pub\.[12]$/.test(await get(h[2]))) return false;
      return true;
    }, 60_000);
    await h[1].startDaemon();
    await until('h2 Ready again', async () => /^h2 Ready$/m.test(await dk(h[0], ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])), 60_000);
    await dk(h[0], ['service', 'rm', 'pub']);
    await until('8080 closed again', async () => (await lab.exec(['curl', '-s', '-m', '2', `http://${h[2].addr}:8080/`])).code !== 0, 20_000);
  });

  it('host mode publishes only where a task runs', async () => {
    await dk(h[0], ['service', 'create', '--detach', '--name', 'hm', '--constraint', 'node.hostname==h2', '--publish', 'published=9090,target=80,mode=host',
      'busybox', 'sh', '-c', 'mkdir -p /www && echo host-mode > /www/index.html && exec httpd -f -p 80 -h /www']);
    await until('h2:9090 answers', async () => (await lab.exec(['curl', '-s', '-m', '2', `http://${h[1].addr}:9090/`])).stdout.trim() === 'host-mode', 30_000);
    assert.notEqual((await lab.exec(['curl', '-s', '-m', '2', `http://${h[0].addr}:9090/`])).code, 0, 'not on a node without the task');
    // a second task cannot take the same host port on h2: it waits and says why
    await dk(h[0], ['service', 'scale', '--detach', 'hm=2']);
    await until('the second task pending with the reason', async () => /no suitable node \(scheduling constraints not satisfied on 2 nodes; host-mode port already in use on 1 node\)/
      .test(await dk(h[0], ['service', 'ps', '--no-trunc', '--format', '{{.Error}}', 'hm'])), 15_000);
    await dk(h[0], ['service', 'rm', 'hm']);
  });

  it('a restarted daemon rebuilds what it lost: VXLAN devices, the mesh table, the DNS for overlay tasks', async () => {
    await dk(h[0], ['service', 'create', '--detach', '--name', 'pub2', '--replicas', '1', '--constraint', 'node.hostname==h1', '-p', '8081:80',
      'busybox', 'sh', '-c', 'mkdir -p /www && echo mesh > /www/index.html && exec httpd -f -p 80 -h /www']);
    await until('h2:8081 answers', async () => (await lab.exec(['curl', '-s', '-m', '2', `http://${h[1].addr}:8081/`])).stdout.trim() === 'mesh', 30_000);
    // h2 runs the cli task; its daemon stops, and the kernel state it made is thrown away meanwhile
    await h[1].stopDaemon();
    await h[1].execOk(['sh', '-c', 'for l in $(ip -o link | grep -o "vx-[0-9a-z]*" | sort -u); do ip link del "$l"; done; nft delete table ip shoal-ingress']);
    assert.notEqual((await lab.exec(['curl', '-s', '-m', '2', `http://${h[1].addr}:8081/`])).code, 0);
    await h[1].startDaemon();
    await until('h2:8081 answers again', async () => (await lab.exec(['curl', '-s', '-m', '2', `http://${h[1].addr}:8081/`])).stdout.trim() === 'mesh', 30_000);
    await until('the cli task on h2 resolves and reaches every srv task across hosts again', async () => {
      if (ips(await inCli('nslookup tasks.srv'), 'tasks.srv').length !== 3) return false;
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add(await inCli('wget -qO- http://srv/'));
      return seen.size === 3;
    }, 30_000);
    await dk(h[0], ['service', 'rm', 'pub2']);
  });

  it('a network in use cannot be removed; after the services go, network rm leaves no device behind', async () => {
    const busy = await h[0].docker(['network', 'rm', 'ovnet']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /is in use by service/);
    await dk(h[0], ['service', 'rm', 'srv', 'cli', 'other']);
    await until('no task containers', async () => (await Promise.all(h.map((x) => dk(x, ['ps', '-aq', '--filter', 'label=com.docker.swarm.task'])))).every((o) => o === ''), 60_000);
    await dk(h[0], ['network', 'rm', 'ovnet', 'ovnet2']);
    assert.equal(await dk(h[0], ['network', 'ls', '--filter', 'driver=overlay', '--format', '{{.Name}}']), 'ingress');
    // only the ingress network's devices stay (every node is in the routing mesh)
    await until('no other overlay bridge or VXLAN device on any host', async () => {
      for (const x of h) if (new Set((await x.execOk(['ip', '-o', 'link'])).match(/\b(ov|vx)-[0-9a-z]+/g) ?? []).size !== 2) return false;
      return true;
    }, 30_000);
  });
});
