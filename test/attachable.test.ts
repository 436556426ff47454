// Standalone containers on an attachable overlay, on a 3-node swarm (h1 manager, h2-h3 workers): a
// service `srv` with tasks on h1 and h2, plain containers run on h3 (no task there) and h2 with
// `run --network ovnet`, `network connect`/`disconnect`, the real docker CLI; names and traffic both
// ways across hosts, Docker's refusals, a daemon restart, and the addresses and devices given back
// (rm, a container gone while its daemon was down, the node leaving).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Host, Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { dockerOk, nslookupAddrs, shoalOk, until } from './harness/checks.js';

// (task hostnames without a dot: busybox takes what follows one for a search domain)
const HTTPD = (text: string) => `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`;

describe('standalone containers on attachable overlays', () => {
  let lab: Lab;
  let h: Host[];
  /** a command in a container, its stdout trimmed ('' when it fails) */
  const inCtr = async (host: Host, ctr: string, cmd: string): Promise<string> => {
    const r = await host.shoal(['exec', ctr, 'sh', '-c', cmd], { timeoutMs: 30_000 });
    return r.code === 0 ? r.stdout.trim() : '';
  };
  const ips = nslookupAddrs;
  const srvTask = async (): Promise<{ host: Host; id: string; name: string }> => {
    for (const x of h) {
      const [line] = (await shoalOk(x, ['ps', '--filter', 'label=com.docker.swarm.service.name=srv', '--format', '{{.ID}} {{.Names}}'])).split('\n').filter(Boolean);
      if (line) return { host: x, id: line.split(' ')[0], name: line.split(' ')[1] };
    }
    throw new Error('no srv task');
  };
  const attachmentTasks = async (): Promise<any[]> =>
    (await h[0].api('GET', `/v1.41/tasks?filters=${encodeURIComponent(JSON.stringify({ runtime: ['attachment'] }))}`)).json as any[];
  /** the network's bridge and VXLAN device on a host */
  const ovDevices = async (x: Host, netId: string): Promise<string[]> =>
    [...new Set((await x.execOk(['ip', '-o', 'link'])).match(new RegExp(`\\b(ov|vx)-${netId.slice(0, 12)}`, 'g')) ?? [])].sort();
  let netId = '';

  before(async () => {
    lab = await createSwarmLab({ hosts: 3 });
    h = lab.hosts;
  });
  after(async () => { await lab?.destroy(); });

  it('run --network on a worker without a task: the manager attaches the container (address, alias, --ip), the network appears there', async () => {
    netId = await shoalOk(h[0], ['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.10.9.0/24', 'ovnet']);
    assert.equal(JSON.parse(await shoalOk(h[0], ['network', 'inspect', 'ovnet']))[0].Attachable, true);
    await shoalOk(h[0], ['service', 'create', '--detach', '--name', 'srv', '--replicas', '2', '--constraint', 'node.hostname!=h3', '--network', 'ovnet',
      '--hostname', '{{.Service.Name}}-{{.Task.Slot}}', 'busybox', 'sh', '-c', HTTPD('$(hostname)')]);
    await until('srv: 2 running tasks', async () => (await shoalOk(h[0], ['service', 'ls', '--filter', 'name=srv', '--format', '{{.Replicas}}'])) === '2/2', 60_000);
    assert.equal(await shoalOk(h[2], ['network', 'ls', '--filter', 'name=ovnet', '-q']), '', 'h3 has no task on ovnet');

    const id = await shoalOk(h[2], ['run', '-d', '--name', 'c1', '--network', 'ovnet', '--network-alias', 'plain', '--ip', '10.10.9.50', 'busybox', 'sh', '-c', HTTPD('c1')]);
    const ep = JSON.parse(await shoalOk(h[2], ['inspect', '-f', '{{json .NetworkSettings.Networks.ovnet}}', 'c1']));
    assert.equal(ep.IPAddress, '10.10.9.50');
    assert.equal(ep.NetworkID, netId);
    assert.equal(ep.MacAddress, '02:42:0a:0a:09:32');
    assert.deepEqual(ep.Aliases.sort(), ['plain', id.slice(0, 12)].sort());
    assert.equal(await inCtr(h[2], 'c1', 'ip -o -4 addr show eth0 | grep -o "10.10.9.50/24"'), '10.10.9.50/24');
    // the worker carries the network now, and lists the container on it
    assert.equal(await shoalOk(h[2], ['network', 'ls', '--filter', 'name=ovnet', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']), 'ovnet overlay swarm');
    const onH3 = JSON.parse(await shoalOk(h[2], ['network', 'inspect', 'ovnet']))[0];
    assert.deepEqual(Object.values(onH3.Containers).map((x: any) => [x.Name, x.IPv4Address]), [['c1', '10.10.9.50/24']]);
    assert.equal((await ovDevices(h[2], netId)).length, 2, 'bridge and VXLAN device on h3');
    // the manager's record: an attachment task of h3's node
    // a manager shows the swarm's network with its own endpoints on it (here, a task)
    const onH1 = JSON.parse(await shoalOk(h[0], ['network', 'inspect', 'ovnet']))[0];
    assert.deepEqual(Object.values(onH1.Containers).map((x: any) => x.Name.split('.')[0]), ['srv']);
    const tasks = await attachmentTasks();
    const h3Node = await shoalOk(h[2], ['info', '--format', '{{.Swarm.NodeID}}']);
    assert.deepEqual(tasks.map((t) => [t.NodeID, t.Spec.NetworkAttachment.ContainerID, t.NetworksAttachments[0].Addresses[0]]), [[h3Node, id, '10.10.9.50/24']]);
  });

  it('the container reaches the service by name (VIP), tasks.<service> and task names, across hosts', async () => {
    const vip = JSON.parse(await shoalOk(h[0], ['service', 'inspect', '-f', '{{json .Endpoint.VirtualIPs}}', 'srv']))[0].Addr.split('/')[0];
    await until('srv resolves to its VIP in c1', async () => ips(await inCtr(h[2], 'c1', 'nslookup srv'), 'srv').join() === vip, 20_000, h[2]);
    const taskIps = await until('tasks.srv: 2 addresses', async () => { const l = ips(await inCtr(h[2], 'c1', 'nslookup tasks.srv'), 'tasks.srv'); return l.length === 2 && l; }, 20_000);
    const seen = new Set<string>();
    for (const ip of taskIps) seen.add(await inCtr(h[2], 'c1', `timeout 5 wget -qO- http://${ip}/`));
    assert.deepEqual([...seen].sort(), ['srv-1', 'srv-2'], 'each task answers on its own address');
    await until('the VIP reaches both tasks', async () => {
      const got = new Set<string>();
      for (let i = 0; i < 8; i++) got.add(await inCtr(h[2], 'c1', 'timeout 5 wget -qO- http://srv/'));
      return got.size === 2 && [...got].every((x) => /^srv-[12]$/.test(x));
    }, 30_000);
    const t = await srvTask();
    assert.match(await inCtr(h[2], 'c1', `timeout 5 wget -qO- http://${t.name}/`), /^srv-[12]$/);
  });

  it('a task on another host reaches the container by its name and its alias', async () => {
    const t = await srvTask();
    assert.notEqual(t.host, h[2]);
    await until('c1 resolves in a srv task', async () => {
      const out = await inCtr(t.host, t.id, 'nslookup c1');
      if (ips(out, 'c1').join() !== '10.10.9.50') throw new Error(out);
      return true;
    }, 20_000, t.host);
    assert.equal(await inCtr(t.host, t.id, 'timeout 5 wget -qO- http://c1/'), 'c1');
    assert.equal(await inCtr(t.host, t.id, 'timeout 5 wget -qO- http://plain/'), 'c1');
    // a rename reaches the swarm's DNS: the new name answers, the old one no longer does
    await shoalOk(h[2], ['rename', 'c1', 'c1-renamed']);
    await until('the task resolves the new name only', async () => ips(await inCtr(t.host, t.id, 'nslookup c1-renamed'), 'c1-renamed').join() === '10.10.9.50'
      && ips(await inCtr(t.host, t.id, 'nslookup c1'), 'c1').length === 0, 20_000, t.host);
    await shoalOk(h[2], ['rename', 'c1-renamed', 'c1']);
    await until('c1 resolves again', async () => ips(await inCtr(t.host, t.id, 'nslookup c1'), 'c1').join() === '10.10.9.50', 20_000, t.host);
  });

  it('network connect and disconnect on a running container (h2, next to a task)', async () => {
    await shoalOk(h[1], ['run', '-d', '--name', 'c2', 'busybox', 'sh', '-c', HTTPD('c2')]);
    await shoalOk(h[1], ['network', 'connect', '--alias', 'second', 'ovnet', 'c2']);
    const ip = JSON.parse(await shoalOk(h[1], ['inspect', '-f', '{{json .NetworkSettings.Networks.ovnet}}', 'c2'])).IPAddress;
    assert.match(ip, /^10\.10\.9\.\d+$/);
    // it switched to the embedded DNS: service names and the container on h3 resolve
    await until('c2 reaches srv', async () => /^srv-[12]$/.test(await inCtr(h[1], 'c2', 'timeout 5 wget -qO- http://srv/')), 20_000, h[1]);
    await until('c2 reaches c1 on h3', async () => (await inCtr(h[1], 'c2', 'timeout 5 wget -qO- http://plain/')) === 'c1', 20_000, h[1]);
    await until('c1 on h3 reaches c2 by its alias', async () => (await inCtr(h[2], 'c1', 'timeout 5 wget -qO- http://second/')) === 'c2', 20_000, h[2]);
    assert.equal((await attachmentTasks()).length, 2);

    await shoalOk(h[1], ['network', 'disconnect', 'ovnet', 'c2']);
    assert.equal(await inCtr(h[1], 'c2', `ip -o -4 addr | grep -c 10.10.9. || true`), '0');
    assert.equal((await attachmentTasks()).length, 1, 'its attachment is gone');
    await until('c1 no longer resolves c2', async () => ips(await inCtr(h[2], 'c1', 'nslookup second'), 'second').length === 0, 20_000);
    await shoalOk(h[1], ['rm', '-f', 'c2']);
  });

  it("Docker's refusals: a non-attachable overlay (run, connect), an unknown network", async () => {
    await shoalOk(h[0], ['network', 'create', '-d', 'overlay', 'closed']);
    const run = await h[2].docker(['run', '-d', '--name', 'c3', '--network', 'closed', 'busybox', 'sleep', '60'], { timeoutMs: 60_000 });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /Could not attach to network closed: rpc error: code = PermissionDenied desc = network closed not manually attachable/);
    assert.equal(await shoalOk(h[2], ['inspect', '-f', '{{.State.Status}}', 'c3']), 'created', 'created, never started');
    const start = await h[2].api('POST', '/v1.41/containers/c3/start');
    assert.equal(start.status, 500);
    const conn = await h[2].docker(['network', 'connect', 'closed', 'c1']);
    assert.notEqual(conn.code, 0);
    assert.match(conn.stderr, /network closed not manually attachable/);
    const ingress = await h[2].docker(['run', '-d', '--network', 'ingress', 'busybox', 'true']);
    assert.match(ingress.stderr, /network ingress not manually attachable/);
    const none = await h[2].docker(['run', '-d', '--network', 'nosuch', 'busybox', 'true']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /network nosuch not found/);
    assert.equal((await attachmentTasks()).length, 1, 'nothing attached by the refusals');
    await shoalOk(h[2], ['rm', '-f', 'c3']);
    await shoalOk(h[0], ['network', 'rm', 'closed']);
  });

  it('the real docker CLI: docker run --network ovnet on a worker, inspect, and removal', async () => {
    await dockerOk(h[1], ['run', '-d', '--name', 'd1', '--network', 'ovnet', 'busybox', 'sleep', '600'], { timeoutMs: 60_000 });
    const ip = await dockerOk(h[1], ['inspect', '-f', '{{.NetworkSettings.Networks.ovnet.IPAddress}}', 'd1']);
    assert.match(ip, /^10\.10\.9\.\d+$/);
    await until('d1 reaches srv and c1', async () => /^srv-[12]$/.test(await inCtr(h[1], 'd1', 'timeout 5 wget -qO- http://srv/'))
      && (await inCtr(h[1], 'd1', 'timeout 5 wget -qO- http://c1/')) === 'c1', 20_000, h[1]);
    const names = (await dockerOk(h[1], ['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'ovnet'])).split(' ');
    assert.ok(names.includes('d1'), names.join());
    await dockerOk(h[1], ['rm', '-f', 'd1']);
  });

  it("a container that dies while its node's daemon is down: the node's next reports release it; a running one keeps its attachment", async () => {
    await shoalOk(h[2], ['run', '-d', '--name', 'c6', '--network', 'ovnet', 'busybox', 'sleep', '600']);
    assert.equal((await attachmentTasks()).length, 2);
    const pid = await shoalOk(h[2], ['inspect', '-f', '{{.State.Pid}}', 'c6']);
    await h[2].killDaemon();
    await h[2].execOk(['kill', '-9', pid]);
    await h[2].startDaemon();
    await until('c6 is exited', async () => (await shoalOk(h[2], ['inspect', '-f', '{{.State.Status}}', 'c6'])) === 'exited', 20_000);
    await until("c6's attachment released (c1's stays)", async () => (await attachmentTasks()).map((t) => t.Spec.NetworkAttachment.ContainerID).join() === (await shoalOk(h[2], ['inspect', '-f', '{{.Id}}', 'c1'])), 60_000, h[0]);
    const t = await srvTask();
    await until('a task still reaches c1 after its daemon restarted', async () => (await inCtr(t.host, t.id, 'timeout 5 wget -qO- http://c1/')) === 'c1', 30_000, h[2]);
    await shoalOk(h[2], ['rm', 'c6']);
  });

  it('rm -f gives the address back (another container takes it) and the worker drops the network once unused', async () => {
    const busy = await h[0].docker(['network', 'rm', 'ovnet']);
    assert.notEqual(busy.code, 0);
    await shoalOk(h[2], ['rm', '-f', 'c1']);
    assert.deepEqual(await attachmentTasks(), []);
    // 10.10.9.50 is free again: a container on h2 gets it
    await shoalOk(h[1], ['run', '-d', '--name', 'c4', '--network', 'ovnet', '--ip', '10.10.9.50', 'busybox', 'sleep', '600']);
    assert.equal(await shoalOk(h[1], ['inspect', '-f', '{{.NetworkSettings.Networks.ovnet.IPAddress}}', 'c4']), '10.10.9.50');
    await shoalOk(h[1], ['rm', '-f', 'c4']);
    await until('h3 has dropped ovnet and its devices', async () => (await shoalOk(h[2], ['network', 'ls', '--filter', 'name=ovnet', '-q'])) === '' && (await ovDevices(h[2], netId)).length === 0, 20_000, h[2]);
    assert.equal((await ovDevices(h[1], netId)).length, 2, 'h2 keeps it for its task');
    await shoalOk(h[0], ['service', 'rm', 'srv']);
    await until('network rm ovnet once the tasks are gone', async () => (await h[0].docker(['network', 'rm', 'ovnet'])).code === 0, 60_000);
    await until('no ovnet device on any host', async () => (await Promise.all(h.map((x) => ovDevices(x, netId)))).every((d) => d.length === 0), 30_000);
  });

  it('a node leaving the swarm gives its attachments back', async () => {
    await shoalOk(h[0], ['network', 'create', '-d', 'overlay', '--attachable', 'ovnet2']);
    await shoalOk(h[2], ['run', '-d', '--name', 'c7', '--network', 'ovnet2', 'busybox', 'sleep', '600']);
    assert.equal((await attachmentTasks()).length, 1);
    await shoalOk(h[2], ['swarm', 'leave']);
    await until('no attachment left', async () => (await attachmentTasks()).length === 0, 20_000, h[0]);
    await shoalOk(h[0], ['network', 'rm', 'ovnet2']);
  });
});
