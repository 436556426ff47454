// Self-test of the test harness (test/harness/): namespaces, mounts, daemon lifecycle, cleanup.
// Needs root. Does not start shoald: the daemon lifecycle is exercised with harness/fake-daemon.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { createLab, mountsUnder, useLab, withLab, type Host, type Lab } from './harness/hosts.js';
import { busyboxRootfsTar } from './harness/busybox.js';
import { run, runOk, sleep } from './harness/run.js';

const fakeDaemon = [process.execPath, fileURLToPath(new URL('./harness/fake-daemon.js', import.meta.url))];

const netnsList = async (): Promise<string[]> => (await runOk('ip', ['netns', 'list'])).split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
const alive = (pid: number): boolean => {
  try { return !/^\d+ \(.*\) [ZX] /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
};

async function pingOk(h: Host, addr: string): Promise<void> {
  let last = '';
  for (let i = 0; i < 5; i++) {
    const r = await h.exec(['busybox', 'ping', '-c', '1', '-W', '1', addr]);
    if (r.code === 0) return;
    last = r.stdout + r.stderr;
    await sleep(200);
  }
  assert.fail(`${h.name} cannot ping ${addr}: ${last}`);
}

interface FakeInfo { pid: number; hostname: string; netdevs: string[]; mountFoundFrom?: number; containerPid: number; containerCgroup: string }
async function info(h: Host): Promise<FakeInfo> {
  const r = await h.api('GET', '/info');
  assert.equal(r.status, 200);
  return r.json as FakeInfo;
}

describe('test harness', { timeout: 180_000 }, () => {
  const env = useLab({ hosts: 2 });
  const leftovers: { pids: number[]; cgroups: string[] } = { pids: [], cgroups: [] };

  it('creates uniquely named namespaces and a private temp dir', async () => {
    const lab = env.lab;
    assert.match(lab.name, /^shl[a-z0-9]{6}$/);
    const names = await netnsList();
    for (const ns of [lab.netns, env.host(1).netns, env.host(2).netns]) assert.ok(names.includes(ns), `${ns} missing from ip netns list`);
    assert.ok(mountsUnder(lab.dir).includes(lab.dir), 'lab dir is a bind mount');
    assert.equal(env.host(2).addr, '10.213.0.12');
    assert.equal(env.host(1).cgroupParent, `shoal-${lab.name}h1`);
  });

  it('gives every host its own hostname', async () => {
    const [a, b] = await Promise.all(env.hosts.map((h) => h.execOk(['hostname'])));
    assert.equal(a!.trim(), 'h1');
    assert.equal(b!.trim(), 'h2');
    assert.notEqual(os.hostname(), 'h1');
  });

  it('addresses eth0, no default route, lab bridge at 10.213.0.2', async () => {
    const h = env.host(1);
    assert.match(await h.execOk(['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']), /inet 10\.213\.0\.11\/24/);
    assert.equal((await h.execOk(['ip', 'route', 'show', 'default'])).trim(), '');
    assert.match((await env.lab.exec(['ip', '-4', '-o', 'addr', 'show', 'dev', 'br0'])).stdout, /inet 10\.213\.0\.2\/24/);
  });

  it('h1 pings h2 over the lab bridge; the lab namespace reaches both', async () => {
    await pingOk(env.host(1), env.host(2).addr);
    await pingOk(env.host(2), env.host(1).addr);
    const r = await env.lab.exec(['busybox', 'ping', '-c', '1', '-W', '2', env.host(1).addr]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('shows the host netns in /sys/class/net and the real cgroups under /sys/fs/cgroup', async () => {
    const h = env.host(1);
    assert.deepEqual((await h.execOk(['ls', '/sys/class/net'])).split(/\s+/).filter(Boolean).sort(), ['eth0', 'lo']);
    assert.equal((await h.exec(['test', '-f', '/sys/fs/cgroup/memory/memory.limit_in_bytes'])).code, 0);
    assert.equal((await h.exec(['test', '-d', '/sys/fs/cgroup/devices'])).code, 0);
    // the same hierarchy as the root's: a cgroup made here is visible inside the host
    const probe = path.join('/sys/fs/cgroup/memory', h.cgroupParent, 'probe');
    fs.mkdirSync(probe, { recursive: true });
    assert.equal((await h.exec(['test', '-d', probe])).code, 0);
  });

  it('keeps a persistent, private mount namespace per host', async () => {
    const [h1, h2] = env.hosts as [Host, Host];
    const m = path.join(h1.dir, 'persist');
    await h1.execOk(['sh', '-c', `mkdir -p ${m} && mount -t tmpfs persist ${m} && echo kept > ${m}/f`]);
    assert.equal((await h1.execOk(['cat', `${m}/f`])).trim(), 'kept', 'a later exec sees the earlier mount');
    assert.ok(!mountsUnder(h1.dir).includes(m), 'not visible in the root mount namespace');
    assert.notEqual((await h2.exec(['cat', `${m}/f`])).code, 0, 'not visible in another host');
    // /run/netns is per host too
    await h1.execOk(['ip', 'netns', 'add', 'inner']);
    assert.match(await h1.execOk(['ip', 'netns', 'list']), /inner/);
    assert.ok(!(await netnsList()).includes('inner'));
    assert.doesNotMatch(await h2.execOk(['ip', 'netns', 'list']), /inner/);
    assert.doesNotMatch(await h1.execOk(['ip', 'netns', 'list']), new RegExp(env.lab.name));
  });

  it('runs a daemon inside the host; after kill -9 a restarted one sees its mounts', async () => {
    const h = env.host(1);
    await h.startDaemon([], { command: fakeDaemon });
    const first = await info(h);
    assert.equal(first.pid, h.daemonPid, 'the PID the harness started is the daemon (nsenter execs)');
    assert.equal(first.hostname, 'h1');
    assert.deepEqual(first.netdevs, ['eth0', 'lo']);
    assert.equal(first.mountFoundFrom, undefined);
    assert.ok(!mountsUnder(h.dir).some((p) => p.startsWith(h.dataRoot)), 'daemon mounts stay in the host');
    assert.equal((await h.execOk(['cat', '/run/fake-daemon'])).trim(), String(first.pid), 'the host has its own /run');
    assert.ok(!fs.existsSync('/run/fake-daemon'));
    assert.notEqual((await env.host(2).exec(['cat', '/run/fake-daemon'])).code, 0);
    const ownMemCg = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes('memory'))!.split(':')[2]!;
    assert.equal(first.containerCgroup, path.join('/sys/fs/cgroup/memory', ownMemCg, h.cgroupParent, `fake-${first.pid}`));

    await h.killDaemon();
    assert.ok(!alive(first.pid));
    assert.ok(alive(first.containerPid), 'the "container" survives a daemon crash');
    assert.ok(fs.existsSync(h.pidFile), 'stale pidfile left behind, as after a real crash');

    await h.startDaemon([], { command: fakeDaemon });
    const second = await info(h);
    assert.notEqual(second.pid, first.pid);
    assert.equal(second.mountFoundFrom, first.pid, 'same mount namespace as the crashed daemon');

    await h.stopDaemon();
    assert.ok(!alive(second.pid));
    assert.equal(h.daemonPid, undefined);
    assert.ok(!fs.existsSync(h.socket));
    assert.match(h.logTail(50), /SIGTERM: shutting down/);
    leftovers.pids.push(first.containerPid, second.containerPid);
    leftovers.cgroups.push(first.containerCgroup, second.containerCgroup);

    // a daemon that dies at once: startDaemon fails with the log tail
    await assert.rejects(env.host(2).startDaemon([], { command: ['/bin/sh', '-c', 'echo boom-at-start; exit 3'] }), /exited \(code 3.*boom-at-start/s);
    // a daemon that ignores SIGTERM gets SIGKILL after the grace period
    const h2 = env.host(2);
    await h2.startDaemon([], { command: fakeDaemon, env: { FAKE_DAEMON_IGNORE_SIGTERM: '1' } });
    const stubborn = await info(h2);
    const t0 = Date.now();
    await h2.stopDaemon('SIGTERM', 500);
    assert.ok(!alive(stubborn.pid));
    assert.ok(Date.now() - t0 < 5000);
    assert.match(h2.logTail(5), /SIGTERM: ignored[\s\S]*still running 500 ms after SIGTERM, SIGKILL/);
    leftovers.pids.push(stubborn.containerPid);
    // a daemon left running is stopped by destroy()
    await h2.startDaemon([], { command: fakeDaemon });
    const third = await info(env.host(2));
    leftovers.pids.push(third.pid, third.containerPid);
    leftovers.cgroups.push(third.containerCgroup);
  });

  it('builds the busybox rootfs tar once, with applets, passwd and a sticky /tmp', async () => {
    const [a, b] = await Promise.all([busyboxRootfsTar(), busyboxRootfsTar()]);
    assert.equal(a, b);
    const listing = await runOk('tar', ['-tvf', a]);
    assert.match(listing, /^drwxrwxrwt .* \.\/tmp\/$/m);
    assert.match(listing, / \.\/bin\/sh -> \/bin\/busybox$/m);
    assert.match(listing, / \.\/usr\/bin\/wget -> \/bin\/busybox$/m);
    assert.match(listing, /^-rwxr-xr-x 0\/0 .* \.\/bin\/busybox$/m);
    for (const f of ['./etc/passwd', './etc/group', './var/www/index.html']) assert.ok(listing.includes(f), f);
    assert.equal((await runOk('tar', ['-xOf', a, './var/www/index.html'])).trim(), 'hello from busybox');
  });

  it('runs a second lab beside the first (same subnet, separate namespaces) and cleans it up', async () => {
    let other: Lab | undefined;
    await withLab({ hosts: 1 }, async (lab) => {
      other = lab;
      assert.notEqual(lab.name, env.lab.name);
      assert.equal((await lab.host(1).execOk(['hostname'])).trim(), 'h1');
      await pingOk(lab.host(1), lab.addr);
      // the first lab's h2 (10.213.0.12) is not reachable from here
      const r = await lab.host(1).exec(['busybox', 'ping', '-c', '1', '-W', '1', '10.213.0.12']);
      assert.notEqual(r.code, 0);
    });
    const names = await netnsList();
    assert.ok(!names.some((n) => n.startsWith(other!.name)));
    assert.ok(!fs.existsSync(other!.dir));
    assert.deepEqual(mountsUnder(other!.dir), []);
  });

  it('destroy() removes processes, mounts, cgroups, namespaces and the temp dir (idempotent)', async () => {
    const lab = env.lab;
    const hostNs = lab.hosts.map((h) => h.netns);
    const cgParents = lab.hosts.flatMap((h) => fs.readdirSync('/sys/fs/cgroup').map((c) => path.join('/sys/fs/cgroup', c, h.cgroupParent)));
    for (const p of leftovers.pids) assert.ok(alive(p), `pid ${p} should still run before destroy`);
    await lab.destroy();
    await lab.destroy(); // idempotent (the after hook calls it once more)
    const names = await netnsList();
    for (const ns of [lab.netns, ...hostNs]) assert.ok(!names.includes(ns), `${ns} still in ip netns list`);
    assert.deepEqual(mountsUnder(lab.dir), []);
    assert.ok(!(await runOk('cat', ['/proc/self/mountinfo'])).includes(lab.dir));
    assert.ok(!fs.existsSync(lab.dir), `${lab.dir} still exists`);
    for (const p of leftovers.pids) assert.ok(!alive(p), `pid ${p} still alive`);
    for (const d of [...cgParents, ...leftovers.cgroups]) assert.ok(!fs.existsSync(d), `${d} still exists`);
    // the lab bridge went with its namespace: nothing of ours anywhere
    const r = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(r.stdout, /\bvh\d+\b|\bbr0\b/);
  });
});

describe('exit hooks clean up a lab that was never destroyed', { timeout: 60_000 }, () => {
  const probe = fileURLToPath(new URL('./harness/exit-probe.js', import.meta.url));
  for (const mode of ['exit', 'signal'] as const) {
    it(`on ${mode === 'exit' ? 'process.exit()' : 'SIGTERM'}`, async () => {
      const child = spawn(process.execPath, [probe, mode], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => { out += c.toString(); if (out.includes('\n')) resolve(out.split('\n')[0]!); });
        child.once('exit', (code) => { if (!out.includes('\n')) reject(new Error(`probe exited ${code} before reporting`)); });
      });
      const made = JSON.parse(line) as { name: string; dir: string; netns: string[]; daemonPid: number; containerPid: number; containerCgroup: string };
      assert.ok(alive(made.daemonPid) && alive(made.containerPid));
      if (mode === 'signal') child.kill('SIGTERM');
      else child.stdin.write('exit now\n');
      const code = await new Promise<number | null>((resolve) => {
        if (child.exitCode !== null) resolve(child.exitCode);
        else child.once('exit', (c) => resolve(c));
      });
      assert.equal(code, mode === 'exit' ? 0 : 143);
      const names = await netnsList();
      for (const ns of made.netns) assert.ok(!names.includes(ns), `${ns} left behind`);
      assert.deepEqual(mountsUnder(made.dir), []);
      assert.ok(!fs.existsSync(made.dir));
      for (let i = 0; i < 20 && alive(made.daemonPid); i++) await sleep(100); // reparented zombie, reaped by init
      assert.ok(!alive(made.daemonPid), 'daemon killed');
      assert.ok(!alive(made.containerPid), 'container killed');
      assert.ok(!fs.existsSync(made.containerCgroup));
    });
  }
});

describe('createLab argument checks', () => {
  it('rejects a bad host count and an existing name', async () => {
    await assert.rejects(createLab({ hosts: 0 }), /hosts must be/);
    await assert.rejects(createLab({ hosts: 1, name: 'bad name' }), /bad lab name/);
  });
});
