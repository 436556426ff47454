// Encrypted overlay networks (`network create -d overlay -o encrypted`) on a 2-node swarm (h1
// manager, h2 worker): VXLAN inside a WireGuard tunnel between the hosts (wireguard-go here: this
// kernel has no WireGuard), checked on the wire with tcpdump on the lab bridge against a plain
// overlay carrying the same payload; MTUs, key rotation by the leader, a restarted daemon adopting
// wireguard-go, and the cleanup on leave and network rm.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Host, Lab } from './harness/hosts.js';
import { createSwarmLab } from './harness/swarm.js';
import { alive, dockerOk, until } from './harness/checks.js';
import { run } from './harness/run.js';
import { tunnelIfname } from '../src/engine/networks/wireguard.js';

const MARK = `shoal-secret-${crypto.randomBytes(6).toString('hex')}`;

describe('encrypted overlay networks', () => {
  let lab: Lab;
  let h: Host[];
  const dk = (host: Host, args: string[]): Promise<string> => dockerOk(host, args, { timeoutMs: 120_000 });
  const taskOn = async (host: Host, svc: string): Promise<string> => dk(host, ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${svc}`]);
  // each daemon's own interface name (tunnelIfname): the hosts share /var/run/wireguard's sockets on a real machine's demo
  const wgIf = (host: Host) => tunnelIfname(host.execRoot);
  const wg = async (host: Host, what: string): Promise<string> => (await host.exec(['wg', 'show', wgIf(host), what])).stdout.trim();
  const pidFile = (host: Host) => path.join(host.execRoot, 'wireguard', `${wgIf(host)}.pid`);
  const wgPid = (host: Host): number => (existsSync(pidFile(host)) ? Number(readFileSync(pidFile(host), 'utf8')) : 0);
  const linkKind = async (host: Host, dev: string): Promise<string | undefined> => {
    const r = await host.exec(['ip', '-d', '-j', 'link', 'show', 'dev', dev]);
    return r.code === 0 ? JSON.parse(r.stdout)[0]?.linkinfo?.info_kind : undefined;
  };
  /** srv's address on a network (its task runs on h1) */
  const srvIp = async (net: string): Promise<string> => JSON.parse(await dk(h[0], ['inspect', await taskOn(h[0], 'srv')]))[0].NetworkSettings.Networks[net].IPAddress;
  /** the cli task (on h2) fetches the secret from srv over one network, sending the mark in a header too */
  const fetchSecret = async (ip: string): Promise<string> => {
    const r = await h[1].docker(['exec', await taskOn(h[1], 'cli'), 'sh', '-c', `timeout 5 wget -qO- --header "X-Mark: ${MARK}" http://${ip}/secret.txt`], { timeoutMs: 30_000 });
    return r.stdout;
  };
  const secret = () => `${MARK}\n`.repeat(3000);

  /** tcpdump on the lab bridge while `traffic` runs: the capture's bytes and its packet counts by port */
  const capture = async (name: string, traffic: () => Promise<void>): Promise<{ bytes: Buffer; vxlan: number; wireguard: number }> => {
    const file = path.join(lab.dir, `${name}.pcap`);
    const p = spawn('nsenter', [`--net=/run/netns/${lab.netns}`, 'tcpdump', '-i', 'br0', '-n', '--immediate-mode', '-B', '16384', '-U', '-Z', 'root', '-w', file, 'udp'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise((r) => p.once('close', r));
    try {
      let err = '';
      await until('tcpdump listening', async () => { err += p.stderr.read()?.toString() ?? ''; return /listening on/.test(err); }, 10_000);
      await traffic();
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      p.kill('SIGINT');
      await exited;
    }
    const count = async (filter: string) => {
      const r = await run('tcpdump', ['-r', file, '-n', filter]);
      assert.equal(r.code, 0, `tcpdump -r ${file} ${filter}: ${r.stderr}`);
      return r.stdout.split('\n').filter(Boolean).length;
    };
    return { bytes: readFileSync(file), vxlan: await count('udp port 4789'), wireguard: await count('udp port 51820') };
  };

  before(async () => {
    lab = await createSwarmLab({ hosts: 2 });
    h = lab.hosts;
  });
  after(async () => { await lab?.destroy(); });

  it('-o encrypted: a WireGuard tunnel between the hosts carrying the tasks, smaller MTUs, clear VXLAN for plain overlays', async () => {
    await dk(h[0], ['network', 'create', '-d', 'overlay', '-o', 'encrypted', 'secnet']);
    await dk(h[0], ['network', 'create', '-d', 'overlay', 'plainnet']);
    assert.deepEqual(JSON.parse(await dk(h[0], ['network', 'inspect', '-f', '{{json .Options}}', 'secnet'])).encrypted, '');
    // nothing encrypted runs yet: no tunnel anywhere
    for (const x of h) assert.equal(await linkKind(x, wgIf(x)), undefined);
    await dk(h[0], ['service', 'create', '--detach', '--name', 'srv', '--stop-grace-period', '1s', '--network', 'secnet', '--network', 'plainnet', '--constraint', 'node.hostname==h1',
      'busybox', 'sh', '-c', `mkdir -p /www && for i in $(seq 3000); do echo ${MARK}; done > /www/secret.txt && exec httpd -f -p 80 -h /www`]);
    await dk(h[0], ['service', 'create', '--detach', '--name', 'cli', '--network', 'secnet', '--network', 'plainnet', '--constraint', 'node.hostname==h2', 'busybox', 'sleep', '600']);
    await until('srv on h1 and cli on h2 running', async () => !!(await taskOn(h[0], 'srv')) && !!(await taskOn(h[1], 'cli')), 60_000);
    const sec = await srvIp('secnet');
    await until('cli fetches the secret over secnet', async () => (await fetchSecret(sec)) === secret(), 30_000);
    assert.equal(await fetchSecret(await srvIp('plainnet')), secret());
    // each host: one tunnel interface (wireguard-go over TUN without kernel WireGuard, run by pid), the other host its only peer
    const kernelWg = (await h[0].exec(['sh', '-c', 'ip link add wgprobe type wireguard && ip link del wgprobe'])).code === 0;
    for (const [x, other] of [[h[0], h[1]], [h[1], h[0]]]) {
      assert.equal(await linkKind(x, wgIf(x)), kernelWg ? 'wireguard' : 'tun');
      if (!kernelWg) {
        assert.ok(alive(wgPid(x)), `${x.name}: wireguard-go runs`);
        assert.match(readFileSync(`/proc/${wgPid(x)}/cmdline`, 'utf8'), new RegExp(`wireguard-go\0-f\0${wgIf(x)}`));
      }
      assert.equal(await wg(x, 'peers'), await wg(other, 'public-key'));
      assert.equal(await wg(x, 'endpoints'), `${await wg(other, 'public-key')}\t${other.addr}:51820`);
      const link = JSON.parse(await x.execOk(['ip', '-j', 'addr', 'show', 'dev', wgIf(x)]))[0];
      assert.equal(link.mtu, 1440);
      assert.match(link.addr_info[0].local, /^169\.254\.(1[6-9]|2\d|3[01])\.\d+$/);
      // fail closed: without the interface, the tunnel range is unreachable (no clear text on a default route)
      assert.match(await x.execOk(['ip', 'route', 'show', '169.254.16.0/20']), /unreachable 169\.254\.16\.0\/20 metric 4096/);
    }
    // the containers' interfaces: 1390 on the encrypted overlay (VXLAN 50 + WireGuard 60), 1450 on the plain one
    const mtus = await h[1].docker(['exec', await taskOn(h[1], 'cli'), 'sh', '-c', 'for d in /sys/class/net/eth*; do echo "$(ip -o -4 addr show dev ${d##*/} | awk \'{print $4}\') $(cat $d/mtu)"; done'], { timeoutMs: 30_000 });
    const eps = JSON.parse(await dk(h[1], ['inspect', await taskOn(h[1], 'cli')]))[0].NetworkSettings.Networks;
    const mtuOf = (ip: string) => mtus.stdout.split('\n').find((l) => l.startsWith(`${ip}/`))?.split(' ')[1];
    assert.equal(mtuOf(eps.secnet.IPAddress), '1390');
    assert.equal(mtuOf(eps.plainnet.IPAddress), '1450');
    // the worker's local copy says encrypted too
    assert.equal(JSON.parse(await dk(h[1], ['network', 'inspect', '-f', '{{json .Options}}', 'secnet'])).encrypted, '');
  });

  it('on the lab bridge the encrypted overlay shows only WireGuard UDP, no payload; the plain overlay shows the payload in VXLAN', async () => {
    const enc = await capture('encrypted', async () => assert.equal(await fetchSecret(await srvIp('secnet')), secret()));
    assert.ok(enc.wireguard > 20, `WireGuard packets seen: ${enc.wireguard} (capture: ${enc.bytes.length} bytes)`);
    // (on 2 busy cores tcpdump may miss a few packets; most of the transfer must be there)
    assert.ok(enc.bytes.length > secret().length / 2, `the capture holds the transfer (${enc.bytes.length} bytes)`);
    assert.equal(enc.vxlan, 0, 'no clear VXLAN');
    assert.equal(enc.bytes.includes(MARK), false, 'the payload is not readable');
    const plain = await capture('plain', async () => assert.equal(await fetchSecret(await srvIp('plainnet')), secret()));
    assert.ok(plain.vxlan > 20, `VXLAN packets seen: ${plain.vxlan}`);
    assert.equal(plain.wireguard, 0);
    assert.equal(plain.bytes.includes(MARK), true, 'the plain overlay carries the payload readably (so the check above can fail)');
  });

  it('the leader rotates the nodes\' key pairs; a restarted daemon adopts wireguard-go; traffic goes on', async () => {
    const before = [await wg(h[0], 'public-key'), await wg(h[1], 'public-key')];
    const pid = wgPid(h[0]);
    // keys older than 3 s are due: every node gets a new pair at once
    await h[0].stopDaemon();
    await h[0].startDaemon([], { env: { SHOAL_SWARM_TUNNEL_KEY_ROTATION_MS: '3000' } });
    await until('both nodes have new keys and know each other\'s', async () => {
      const now = [await wg(h[0], 'public-key'), await wg(h[1], 'public-key')];
      return now[0] !== before[0] && now[1] !== before[1] && (await wg(h[0], 'peers')) === now[1] && (await wg(h[1], 'peers')) === now[0];
    }, 60_000);
    assert.match(readFileSync(h[1].logFile, 'utf8'), /WireGuard key pair rotated/);
    // back to the default interval (12 h): the keys stay
    await h[0].stopDaemon();
    await h[0].startDaemon();
    await until('h1 manages the swarm again', async () => (await h[0].docker(['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])).stdout.split('\n').sort().join(' ') === ' h1 Ready h2 Ready', 60_000);
    if (pid) assert.equal(wgPid(h[0]), pid, 'the same wireguard-go, adopted by pid');
    const sec = await srvIp('secnet');
    await until('cli fetches the secret over secnet again', async () => (await fetchSecret(sec)) === secret(), 60_000);
  });

  it('leave and network rm: wireguard-go stopped by its pid, the interface and route gone; peers drop the node', async () => {
    const pid2 = wgPid(h[1]);
    await dk(h[1], ['swarm', 'leave']);
    if (pid2) assert.equal(alive(pid2), false, 'h2\'s wireguard-go stopped');
    assert.equal(await linkKind(h[1], wgIf(h[1])), undefined);
    assert.equal((await h[1].execOk(['ip', 'route', 'show', '169.254.16.0/20'])).trim(), '');
    await until('h1 drops h2 as a peer', async () => (await wg(h[0], 'peers')) === '', 10_000);
    const pid1 = wgPid(h[0]);
    await dk(h[0], ['service', 'rm', 'srv', 'cli']);
    await until('srv gone on h1', async () => !(await taskOn(h[0], 'srv')), 30_000);
    await dk(h[0], ['network', 'rm', 'secnet', 'plainnet']);
    await until('h1\'s tunnel gone: interface, wireguard-go, its pid file, the fail-closed route', async () => (await linkKind(h[0], wgIf(h[0]))) === undefined
      && !alive(pid1) && !existsSync(pidFile(h[0])) && (await h[0].execOk(['ip', 'route', 'show', '169.254.16.0/20'])).trim() === '', 30_000);
  });

  it('a plain container joins an attachable encrypted overlay on a node that had no tunnel yet', async () => {
    await dk(h[1], ['swarm', 'join', '--token', await dk(h[0], ['swarm', 'join-token', '-q', 'worker']), `${h[0].addr}:2377`]);
    await dk(h[0], ['network', 'create', '-d', 'overlay', '--attachable', '-o', 'encrypted', 'encatt']);
    await dk(h[0], ['service', 'create', '--detach', '--name', 'web', '--network', 'encatt', '--constraint', 'node.hostname==h1', '--hostname', 'encrypted-web',
      'busybox', 'sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www']);
    await until('web runs on h1', async () => !!(await taskOn(h[0], 'web')), 30_000);
    assert.equal(await linkKind(h[1], wgIf(h[1])), undefined, 'h2 has no tunnel before');
    // the container starts at once (its node brings its tunnel up first); the peers learn of it within a pass
    const out = await dk(h[1], ['run', '--rm', '--network', 'encatt', 'busybox', 'sh', '-c', 'for i in $(seq 30); do wget -qO- http://web/ && exit 0; sleep 0.3; done; exit 1']);
    assert.equal(out, 'encrypted-web');
    assert.notEqual(await linkKind(h[1], wgIf(h[1])), undefined, 'h2 has its tunnel now');
  });
});
