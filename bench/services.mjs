#!/usr/bin/env node
// bench/services.mjs: service timings on 3 test hosts (1 manager + 2 workers, network namespaces,
// see test/README.md), driven by the real docker CLI with the very commands of Docker's baseline
// (/work/shared/lab/baseline.sh, results in baseline-docker-20.10.md), printed next to Docker
// 20.10's medians from that file:
//   b. service create --replicas 30 busybox sleep 1d -> 30/30
//   c. scale to 100 -> 100/100
//   d. update --env-add A=1 --update-parallelism 10 --update-delay 0s -> 100 running on the new spec
//      (busybox sleep ignores SIGTERM: every stop waits the 10 s grace, as on Docker)
//   h. manager memory with 100 tasks (shoald + etcd + conmons on h1)
//   e. kill -9 of h3's shoald -> h3 Down, and -> 100 running on h1+h2
//   x. service rm (100 tasks) -> no task container left
// Run after `bash scripts/setup.sh` (needs dist/): `node bench/services.mjs` (ITER=n repeats, default 1).
// Bounded: every wait gives up after 300 s; the lab is destroyed at the end.
import fs from 'node:fs';
import { createSwarmLab } from '../dist/test/harness/swarm.js';
import { dockerOk, median, sleep, until as untilMs } from './lib.mjs';
const until = (what, fn, ms = 300_000) => untilMs(what, fn, ms, 200);

const ITER = Number(process.env.ITER ?? 1);
const DOCKER = { b: 7.6, c: 19.1, d: 129.8, eDown: 11.7, eRun: 23.0, x: 20.9, mem: '128 + containerd 48 + 33 shims 425 = 601' };

const rssKiB = (pid) => { try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0); } catch { return 0; } };
const children = (pid) => { try { return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number); } catch { return []; } };
const comm = (pid) => { try { return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return ''; } };

const res = { b: [], c: [], d: [], eDown: [], eRun: [], x: [], mem: [] };
const lab = await createSwarmLab({ hosts: 3 });
try {
  const [h1, h2, h3] = lab.hosts;
  const d = dockerOk;
  const replicas = async () => d(h1, ['service', 'ls', '--filter', 'name=s1', '--format', '{{.Replicas}}']);
  const nodeStatus = async (name) => (await d(h1, ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])).split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1];
  for (let it = 0; it < ITER; it++) {
    let t0 = Date.now();
    await d(h1, ['service', 'create', '--detach', '--name', 's1', '--replicas', '30', 'busybox', 'sleep', '1d']);
    await until('30/30', async () => (await replicas()) === '30/30');
    res.b.push((Date.now() - t0) / 1000);

    t0 = Date.now();
    await d(h1, ['service', 'scale', '--detach', 's1=100']);
    await until('100/100', async () => (await replicas()) === '100/100');
    res.c.push((Date.now() - t0) / 1000);

    // memory on the manager: shoald, its etcd, the conmons of its containers
    const pid = Number(fs.readFileSync(`${h1.dir}/shoald.pid`, 'utf8'));
    const kids = children(pid);
    const etcd = kids.filter((k) => comm(k) === 'etcd').reduce((a, k) => a + rssKiB(k), 0);
    const conmons = [];
    for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x)).map(Number)) {
      if (comm(p) !== 'conmon') continue;
      try { if (fs.readlinkSync(`/proc/${p}/ns/mnt`) === fs.readlinkSync(`/proc/${pid}/ns/mnt`)) conmons.push(p); } catch { /* gone */ }
    }
    res.mem.push(`shoald ${(rssKiB(pid) / 1024).toFixed(0)} + etcd ${(etcd / 1024).toFixed(0)} + ${conmons.length} conmons ${(conmons.reduce((a, p) => a + rssKiB(p), 0) / 1024).toFixed(0)}`);

    t0 = Date.now();
    await d(h1, ['service', 'update', '--detach', '--env-add', 'A=1', '--update-parallelism', '10', '--update-delay', '0s', 's1']);
    await until('100 running on the new spec', async () => {
      const ps = (await d(h1, ['service', 'ps', 's1', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}'])).split('\n').filter(Boolean);
      if (ps.length !== 100 || !ps.every((l) => l.startsWith('Running'))) return false;
      const specs = await d(h1, ['service', 'inspect', '-f', '{{.UpdateStatus.State}}', 's1']);
      return specs === 'completed';
    }, 600_000);
    res.d.push((Date.now() - t0) / 1000);

    await h3.killDaemon();
    t0 = Date.now();
    await until('h3 Down', async () => (await nodeStatus('h3')) === 'Down');
    res.eDown.push((Date.now() - t0) / 1000);
    await until('100/100 on h1+h2', async () => (await replicas()) === '100/100');
    res.eRun.push((Date.now() - t0) / 1000);
    await h3.startDaemon();
    await until('h3 Ready', async () => (await nodeStatus('h3')) === 'Ready');

    t0 = Date.now();
    await d(h1, ['service', 'rm', 's1']);
    await until('no task containers', async () => {
      for (const h of lab.hosts) if ((await d(h, ['ps', '-aq', '--filter', 'label=com.docker.swarm.task'])) !== '') return false;
      return true;
    });
    res.x.push((Date.now() - t0) / 1000);
  }
} finally {
  await lab.destroy();
}

const row = (name, a, docker) => {
  const m = median(a);
  console.log(`| ${name} | ${m.toFixed(1)} (${Math.min(...a).toFixed(1)}-${Math.max(...a).toFixed(1)}) | ${docker} | ${(docker / m).toFixed(1)}x |`);
};
console.log(`\nshoal services on 3 test hosts (1 manager + 2 workers), docker CLI, ${ITER} iteration(s); Docker 20.10 medians from /work/shared/lab/baseline-docker-20.10.md\n`);
console.log('| step | shoal s (min-max) | Docker 20.10 s | Docker/shoal |');
console.log('|---|---|---|---|');
row('b. create 30 replicas -> 30/30', res.b, DOCKER.b);
row('c. scale 30 -> 100 -> 100/100', res.c, DOCKER.c);
row('d. rolling update 100, parallelism 10 -> all new & completed', res.d, DOCKER.d);
row('e. kill -9 h3 daemon -> h3 Down', res.eDown, DOCKER.eDown);
row('e. kill -9 h3 daemon -> 100 running on h1+h2', res.eRun, DOCKER.eRun);
row('x. service rm (100 tasks) -> no containers', res.x, DOCKER.x);
console.log(`\nmanager memory with 100 tasks (MiB): shoal ${res.mem.join('; ')} | Docker: dockerd ${DOCKER.mem}`);
