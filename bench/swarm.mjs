#!/usr/bin/env node
// bench/swarm.mjs: swarm timings on test hosts (network namespaces, see test/README.md), printed
// as a table next to Docker 20.10's figures measured on this machine kind with the same steps
// (/work/shared/lab/baseline-docker-20.10.md and the issue text):
//   - swarm join -> the node Ready in node ls (worker join, N runs)
//   - kill -9 of the leader's shoald -> a new leader answering node ls (3 managers, N runs)
//   - kill -9 of a worker's shoald -> Down in node ls (N runs)
// Run after `bash scripts/setup.sh` (needs dist/). Bounded: every wait gives up after 60 s.
import { createLab } from '../dist/test/harness/hosts.js';
import { median, sleep, until as untilMs } from './lib.mjs';
const until = (what, fn, ms = 60_000) => untilMs(what, fn, ms, 100);

const N = Number(process.env.N ?? 3);
const fmt = (a) => a.length ? `${(median(a) / 1000).toFixed(2)} (${(Math.min(...a) / 1000).toFixed(2)}-${(Math.max(...a) / 1000).toFixed(2)})` : '-';

const rows = async (h) => {
  const r = await h.shoal(['node', 'ls', '--format', '{{.Hostname}}|{{.Status}}|{{.ManagerStatus}}']);
  if (r.code !== 0) return undefined;
  return new Map(r.stdout.trim().split('\n').map((l) => { const [n, ...x] = l.split('|'); return [n, x]; }));
};

const join = [], failover = [], down = [];
const lab = await createLab({ hosts: 4 });
try {
  const [h1, h2, h3, h4] = lab.hosts;
  await Promise.all(lab.hosts.map((h) => h.startDaemon()));
  await h1.shoal(['swarm', 'init', '--advertise-addr', h1.addr]);
  const tok = async (role) => (await h1.shoal(['swarm', 'join-token', '-q', role])).stdout.trim();
  for (const h of [h2, h3]) await h.shoal(['swarm', 'join', '--token', await tok('manager'), `${h1.addr}:2377`]);
  for (let i = 0; i < N; i++) {
    const t0 = Date.now();
    const r = await h4.shoal(['swarm', 'join', '--token', await tok('worker'), `${h1.addr}:2377`]);
    if (r.code !== 0) throw new Error(r.stderr);
    await until('h4 Ready', async () => (await rows(h1))?.get('h4')?.[0] === 'Ready');
    join.push(Date.now() - t0);
    // a silent worker: its daemon dies without a word
    await h4.killDaemon();
    const t1 = Date.now();
    await until('h4 Down', async () => (await rows(h1))?.get('h4')?.[0] === 'Down');
    down.push(Date.now() - t1);
    await h4.startDaemon();
    await h4.shoal(['swarm', 'leave', '--force']);
    const id = [...((await rows(h1)) ?? new Map())].find(([n]) => n === 'h4');
    if (id) await h1.shoal(['node', 'rm', '--force', 'h4']);
  }
  const managers = [h1, h2, h3];
  for (let i = 0; i < N; i++) {
    let leader;
    await until('a leader', async () => { const m = await rows(h1) ?? await rows(h2); leader = m && [...m].find(([, x]) => x[1] === 'Leader')?.[0]; return leader; });
    const lh = managers.find((h) => h.name === leader);
    const others = managers.filter((h) => h !== lh);
    const t0 = Date.now();
    await lh.killDaemon();
    await until('a new leader', async () => {
      const m = await rows(others[0]);
      const l = m && [...m].find(([, x]) => x[1] === 'Leader')?.[0];
      return l && l !== leader;
    });
    failover.push(Date.now() - t0);
    await lh.startDaemon();
    await until('old leader back', async () => (await rows(others[0]))?.get(leader)?.[1] === 'Reachable');
  }
} finally {
  await lab.destroy();
}
console.log(`| swarm timing (s, median (min-max), N=${N}) | shoal | docker 20.10 (baseline, same steps) |
|---|---|---|
| swarm join -> node Ready in node ls | ${fmt(join)} | - |
| kill -9 leader's daemon -> new leader answering (3 managers) | ${fmt(failover)} | 9.7 |
| kill -9 worker's daemon -> Down in node ls | ${fmt(down)} | 10.37-14.61 |`);
