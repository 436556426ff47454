// Networks on one host, with real traffic: the default bridge, user-defined bridges with the
// embedded DNS, published ports reached from a second host namespace and from the host itself,
// DNS forwarding to a fake upstream, --internal, connect/disconnect, macvlan, a daemon restart,
// and teardown that leaves no bridge, veth or rule behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Host, type Lab } from './harness/hosts.js';
import { importBusybox } from './harness/busybox.js';
import { until } from './harness/checks.js';

const UPSTREAM = '10.213.0.2'; // the lab namespace, where the fake resolver runs
const EXTERNAL_ADDR = '192.0.2.7';

describe('networks', () => {
  let lab: Lab;
  let h1: Host;
  let h2: Host;
  let resolver: ChildProcess | undefined;

  const sh = async (args: string[], expectCode = 0): Promise<string> => {
    const r = await h1.shoal(args, { timeoutMs: 60_000 });
    assert.equal(r.code, expectCode, `shoal ${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout.trim();
  };
  const ipOf = (c: string, net: string) => sh(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, c]);
  const curl = (h: Host | Lab, url: string) => h.exec(['curl', '-s', '-m', '5', url]);
  /** curl until the server in a just-started container answers (or 10 s pass) */
  const fetchText = async (h: Host, url: string): Promise<string> => {
    let out = '';
    for (let i = 0; i < 50 && !out; i++) {
      out = (await curl(h, url)).stdout;
      if (!out) await new Promise((r) => setTimeout(r, 200));
    }
    return out;
  };

  before(async () => {
    lab = await createLab({ hosts: 2 });
    h1 = lab.host(1);
    h2 = lab.host(2);
    const fake = path.join(path.dirname(fileURLToPath(import.meta.url)), 'harness', 'fake-dns.js');
    resolver = spawn('nsenter', [`--net=/run/netns/${lab.netns}`, process.execPath, fake, UPSTREAM, `external.test=${EXTERNAL_ADDR}`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      resolver!.stdout!.once('data', () => resolve());
      resolver!.once('exit', (code) => reject(new Error(`fake resolver exited ${code}`)));
    });
    await h1.startDaemon(['--dns', UPSTREAM]);
    await importBusybox(h1);
    await sh(['run', '-d', '--name', 'c1', 'busybox', 'sleep', '600']);
    await sh(['network', 'create', '--subnet', '10.77.0.0/24', '--label', 'purpose=test', 'appnet']);
    await sh(['network', 'create', 'other']);
    await sh(['run', '-d', '--name', 'web', '--network', 'appnet', '--network-alias', 'www', '-p', '8080:80', 'busybox',
      'sh', '-c', 'mkdir -p /www && echo hello-web > /www/index.html && exec httpd -f -p 80 -h /www']);
  });

  after(async () => {
    if (resolver?.pid) resolver.kill('SIGTERM');
    await lab?.destroy();
  });

  it('lists the predefined networks like docker', async () => {
    const ls = await sh(['network', 'ls']);
    assert.match(ls.split('\n')[0], /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null'], ['appnet', 'bridge']]) {
      assert.match(ls, new RegExp(`^[0-9a-f]{12}\\s+${name}\\s+${driver}\\s+local$`, 'm'));
    }
    assert.equal(await sh(['network', 'ls', '-q', '--filter', 'label=purpose=test']), (await sh(['network', 'inspect', '-f', '{{.Id}}', 'appnet'])).slice(0, 12));
    const viaDocker = await h1.docker(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}', 'appnet']);
    assert.equal(viaDocker.stdout.trim(), '10.77.0.0/24 10.77.0.1');
  });

  it('default bridge: containers reach each other by address, but not by name', async () => {
    const ip = await ipOf('c1', 'bridge');
    assert.match(ip, /^172\.17\.0\.\d+$/);
    assert.equal(await sh(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'c1']), ip);
    // a sandbox per start, as Docker: an ID and the namespace's path, both gone once stopped
    const [sandboxId, sandboxKey] = (await sh(['inspect', '-f', '{{.NetworkSettings.SandboxID}} {{.NetworkSettings.SandboxKey}}', 'c1'])).split(' ');
    assert.match(sandboxId, /^[0-9a-f]{64}$/);
    assert.ok(sandboxKey.startsWith('/'), sandboxKey);
    assert.equal(await sh(['run', '--name', 'sbx', 'busybox', 'true']), '');
    assert.equal(await sh(['inspect', '-f', '[{{.NetworkSettings.SandboxID}}][{{.NetworkSettings.SandboxKey}}]', 'sbx']), '[][]');
    await sh(['rm', 'sbx']);
    const out = await sh(['run', '--rm', 'busybox', 'sh', '-c', `ping -c1 -W3 ${ip} >/dev/null && echo reached; cat /etc/resolv.conf; ping -c1 -W1 c1 2>&1 || true`]);
    assert.match(out, /reached/);
    assert.doesNotMatch(out, /127\.0\.0\.11/);
    assert.match(out, /bad address 'c1'/);
  });

  it('user-defined network: names and aliases resolve through 127.0.0.11, for members only', async () => {
    const webIp = await ipOf('web', 'appnet');
    assert.match(webIp, /^10\.77\.0\.\d+$/);
    const out = await sh(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c',
      'cat /etc/resolv.conf; timeout 5 wget -qO- http://web/; timeout 5 wget -qO- http://www/']);
    assert.match(out, /^nameserver 127\.0\.0\.11$/m);
    assert.equal(out.match(/hello-web/g)?.length, 2);
    const outsider = await sh(['run', '--rm', '--network', 'other', 'busybox', 'sh', '-c',
      `nslookup web 2>&1; timeout 3 wget -qO- http://${webIp}/ || echo unreachable`]);
    assert.doesNotMatch(outsider, new RegExp(webIp.replace(/\./g, '\\.')));
    assert.match(outsider, /unreachable/);
  });

  it('shapes /etc/hosts and /etc/resolv.conf from --hostname, --add-host, --dns-*, --link', async () => {
    const out = await sh(['run', '--rm', '--network', 'appnet', '--hostname', 'box1', '--add-host', 'db.example:10.9.8.7',
      '--dns-search', 'corp.example', '--dns-option', 'ndots:2', 'busybox', 'sh', '-c', 'hostname; cat /etc/hosts /etc/resolv.conf']);
    assert.match(out, /^box1$/m);
    assert.match(out, /^10\.77\.0\.\d+\tbox1$/m);
    assert.match(out, /^10\.9\.8\.7\tdb\.example$/m);
    assert.match(out, /^search corp\.example$/m);
    assert.match(out, /^nameserver 127\.0\.0\.11$/m);
    assert.match(out, /^options ndots:2$/m);
    const ip = await ipOf('c1', 'bridge');
    const linked = await sh(['run', '--rm', '--link', 'c1:db', 'busybox', 'sh', '-c', 'cat /etc/hosts; ping -c1 -W3 db >/dev/null && echo reached']);
    assert.match(linked, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tdb [0-9a-f]{12} c1$`, 'm'));
    assert.match(linked, /reached/);
  });

  it('honours --ip-range, --gateway, a bridge name and a fixed --ip', async () => {
    await sh(['network', 'create', '--subnet', '10.88.0.0/16', '--ip-range', '10.88.5.0/24', '--gateway', '10.88.0.254',
      '-o', 'com.docker.network.bridge.name=shoaltest0', 'ranged']);
    assert.match(await h1.execOk(['ip', '-o', '-4', 'addr', 'show', 'shoaltest0']), /inet 10\.88\.0\.254\/16/);
    const out = await sh(['run', '--rm', '--network', 'ranged', 'busybox', 'sh', '-c', 'ip -o -4 addr show eth0; ip route']);
    assert.match(out, /inet 10\.88\.5\.\d+\/16/);
    assert.match(out, /default via 10\.88\.0\.254/);
    const fixed = await sh(['run', '--rm', '--network', 'ranged', '--ip', '10.88.7.7', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.match(fixed, /inet 10\.88\.7\.7\/16/);
    const bad = await h1.shoal(['run', '--rm', '--ip', '172.17.9.9', 'busybox', 'true']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /user specified IP address is supported on user defined networks only/);
    const overlap = await h1.shoal(['network', 'create', '--subnet', '10.88.1.0/24', 'overlapping']);
    assert.equal(overlap.code, 1);
    assert.match(overlap.stderr, /Pool overlaps with other one on this address space/);
    await sh(['network', 'rm', 'ranged']);
    assert.notEqual((await h1.exec(['ip', 'link', 'show', 'shoaltest0'])).code, 0);
  });

  it('publishes a host port range and resolves --link aliases on a user-defined network', async () => {
    await sh(['run', '-d', '--name', 'ranged-web', '--network', 'appnet', '-p', '9000-9005:80', 'busybox', 'sh', '-c',
      'mkdir -p /www && echo hello-range > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.equal(await sh(['port', 'ranged-web', '80']), '0.0.0.0:9000');
    assert.equal(await fetchText(h2, `http://${h1.addr}:9000/`), 'hello-range\n');
    const linked = await sh(['run', '--rm', '--network', 'appnet', '--link', 'ranged-web:backend', 'busybox', 'sh', '-c',
      'timeout 5 wget -qO- http://backend/']);
    assert.equal(linked, 'hello-range');
    // the alias is the linking container's alone
    const other = await h1.shoal(['run', '--rm', '--network', 'appnet', 'busybox', 'sh', '-c', 'timeout 5 wget -qO- http://backend/']);
    assert.notEqual(other.code, 0);
    await sh(['rm', '-f', 'ranged-web']);
  });

  it('--bip and --default-address-pool shape the default bridge and new networks', async () => {
    await h2.startDaemon(['--bip', '10.55.0.1/24', '--default-address-pool', 'base=10.66.0.0/16,size=24']);
    try {
      await importBusybox(h2);
      const run = await h2.shoal(['run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
      assert.match(run.stdout, /inet 10\.55\.0\.\d+\/24/, run.stderr);
      assert.match(await h2.execOk(['ip', '-o', '-4', 'addr', 'show', 'shoal0']), /inet 10\.55\.0\.1\/24/);
      await h2.shoal(['network', 'create', 'pooled']);
      const sub = await h2.shoal(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'pooled']);
      assert.equal(sub.stdout.trim(), '10.66.0.0/24');
    } finally {
      await h2.stopDaemon();
    }
  });

  it('forwards other names to the upstream resolver', async () => {
    const out = await sh(['run', '--rm', '--network', 'appnet', 'busybox', 'nslookup', 'external.test']);
    assert.match(out, new RegExp(EXTERNAL_ADDR.replace(/\./g, '\\.')));
  });

  it('publishes a port: reachable from another host and from the host itself', async () => {
    assert.equal(await fetchText(h2, `http://${h1.addr}:8080/`), 'hello-web\n');
    assert.equal((await curl(h1, 'http://127.0.0.1:8080/')).stdout, 'hello-web\n');
    assert.equal((await curl(h1, `http://${h1.addr}:8080/`)).stdout, 'hello-web\n');
    assert.equal(await sh(['port', 'web']), '80/tcp -> 0.0.0.0:8080');
    assert.match(await sh(['ps', '--filter', 'name=web', '--format', '{{.Ports}}']), /^0\.0\.0\.0:8080->80\/tcp$/);
    const taken = await h1.shoal(['run', '--rm', '-p', '8080:80', 'busybox', 'true']);
    assert.equal(taken.code, 125);
    assert.match(taken.stderr, /Bind for 0\.0\.0\.0:8080 failed: port is already allocated/);
  });

  it('-P publishes exposed ports on ephemeral ports; UDP works', async () => {
    await sh(['run', '-d', '--name', 'web2', '-P', '--expose', '80', 'busybox', 'sh', '-c',
      'mkdir -p /www && echo hello-two > /www/index.html && exec httpd -f -p 80 -h /www']);
    const port = Number((await sh(['port', 'web2', '80'])).split(':').pop());
    assert.ok(port > 1024, `ephemeral port ${port}`);
    assert.equal(await fetchText(h2, `http://${h1.addr}:${port}/`), 'hello-two\n');
    // busybox has no UDP server: borrow the host's socat (read-only bind mounts of /usr)
    await sh(['run', '-d', '--name', 'udp', '-p', '5353:5353/udp', '-v', '/usr:/usr:ro', '-v', '/usr/lib:/lib:ro', '-v', '/usr/lib64:/lib64:ro',
      'busybox', '/usr/bin/socat', '-u', 'UDP4-RECV:5353', 'STDOUT']);
    await new Promise((r) => setTimeout(r, 300));
    let logs = '';
    for (let i = 0; i < 30 && !logs.includes('over-udp'); i++) {
      await h2.exec(['sh', '-c', `echo over-udp | socat -u - UDP4:${h1.addr}:5353`]);
      await new Promise((r) => setTimeout(r, 200));
      logs = await sh(['logs', 'udp']);
    }
    assert.match(logs, /over-udp/);
    await sh(['rm', '-f', 'web2', 'udp']);
  });

  it('--internal networks have no way out', async () => {
    await sh(['network', 'create', '--internal', 'intnet']);
    const inside = await h1.shoal(['run', '--rm', '--network', 'intnet', 'busybox', 'ping', '-c1', '-W2', UPSTREAM]);
    assert.notEqual(inside.code, 0);
    const outside = await h1.shoal(['run', '--rm', '--network', 'appnet', 'busybox', 'ping', '-c1', '-W2', UPSTREAM]);
    assert.equal(outside.code, 0, outside.stdout + outside.stderr);
  });

  it('connects and disconnects a running container', async () => {
    await sh(['network', 'connect', '--alias', 'first', 'appnet', 'c1']);
    const addrs = await sh(['exec', 'c1', 'ip', '-o', '-4', 'addr']);
    assert.match(addrs, /eth1\s+inet 10\.77\.0\.\d+\/24/);
    assert.match(await sh(['exec', 'c1', 'timeout', '5', 'wget', '-qO-', 'http://web/']), /hello-web/);
    const fromWeb = await sh(['exec', 'web', 'nslookup', 'first', '127.0.0.11']);
    assert.match(fromWeb, new RegExp((await ipOf('c1', 'appnet')).replace(/\./g, '\\.')));
    const inspect = JSON.parse(await sh(['network', 'inspect', 'appnet']));
    assert.equal(Object.keys(inspect[0].Containers).length, 2);
    await sh(['network', 'disconnect', 'appnet', 'c1']);
    assert.doesNotMatch(await sh(['exec', 'c1', 'ip', '-o', '-4', 'addr']), /eth1/);
    const rm = await h1.shoal(['network', 'rm', 'appnet']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /has active endpoints/);
  });

  it('macvlan puts containers on the parent interface\'s LAN', async () => {
    await sh(['network', 'create', '-d', 'macvlan', '--subnet', '10.213.0.0/24', '--gateway', UPSTREAM, '-o', 'parent=eth0', 'mv']);
    const out = await sh(['run', '--rm', '--network', 'mv', '--ip', '10.213.0.150', 'busybox', 'sh', '-c', `ip -o -4 addr show eth0; ping -c1 -W3 ${h2.addr} >/dev/null && echo reached`]);
    assert.match(out, /inet 10\.213\.0\.150\/24/);
    assert.match(out, /reached/);
    await sh(['network', 'rm', 'mv']);
  });

  it('networks, names and published ports survive a daemon restart', async () => {
    await h1.stopDaemon();
    await h1.startDaemon(['--dns', UPSTREAM]);
    assert.equal((await curl(h2, `http://${h1.addr}:8080/`)).stdout, 'hello-web\n');
    // (once seen failing right after a restart under CI load, not reproduced since: poll, with the daemon log on failure)
    await until('www resolved after the restart', async () => /hello-web/.test((await h1.shoal(['run', '--rm', '--network', 'appnet', 'busybox', 'timeout', '5', 'wget', '-qO-', 'http://www/'])).stdout), 15_000, h1);
    const again = await h1.shoal(['run', '--rm', '-p', '8080:80', 'busybox', 'true']);
    assert.match(again.stderr, /port is already allocated/);
  });

  it('removing containers and networks leaves no interface or rule behind', async () => {
    const all = (await sh(['ps', '-aq'])).split('\n').filter(Boolean);
    await sh(['rm', '-f', ...all]);
    assert.equal(await sh(['network', 'rm', 'appnet', 'other', 'intnet']), 'appnet\nother\nintnet');
    const links = (await h1.execOk(['ip', '-o', 'link'])).split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
    assert.deepEqual(links.sort(), ['eth0', 'lo', 'shoal0']);
    const rules = await h1.execOk(['nft', 'list', 'table', 'ip', 'shoal']);
    assert.doesNotMatch(rules, /dnat to|br-/);
    const rm = await h1.shoal(['network', 'rm', 'bridge']);
    assert.match(rm.stderr, /bridge is a pre-defined network and cannot be removed/);
    // nothing was ever added to the root namespace
    const root = spawn('nft', ['list', 'tables']);
    let tables = '';
    root.stdout.on('data', (d) => { tables += d; });
    await new Promise((r) => root.on('close', r));
    assert.doesNotMatch(tables, /table ip shoal\b/);
  });
});
