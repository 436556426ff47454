#!/usr/bin/env node
// bench/planner.mjs: the swarm's orchestrators + scheduler (`plan()`, src/swarm/manager/planner.ts)
// alone, on simulated nodes: tasks placed per second and peak memory.
//
// Run (needs dist/):
//   npx tsc -p tsconfig.json && node bench/planner.mjs
//   SCENARIOS=10k,100k node bench/planner.mjs     # a subset (names in the table below)
//   TIMEOUT_S=120 node bench/planner.mjs          # per-scenario limit (default 120 s)
// Each scenario runs in its own child process (node --max-old-space-size=...), so its peak RSS is
// its own and a slow one is killed at the limit; the 1M scenario is skipped, with a message, when
// MemAvailable is below what it needs. Nothing but CPU and memory is used.
//
// Per scenario: pass 1 plans from an empty task set (every task created and placed); then the
// leader's every-second pass over the result, all tasks running, which must plan nothing:
// "steady" with the tasks as pass 1 made them, "steady/etcd" with JSON copies of them (what the
// leader reads back from etcd: no object shared between tasks and the service spec).
//
// Figures on this machine (2 shared cores, Node 20), after the planner's rewrite:
//   scenario           nodes  tasks placed  pass 1 s  placed/s  steady s  steady/etcd s  peak RSS MiB  peak heap MiB
//   10k                 1000        10,000      0.03   355,581      0.02           0.05            87             25
//   100k                1000       100,000      0.15   681,808      0.10           0.14           198            117
//   constraint+global   1000       100,980      0.14   714,942      0.11           0.16           211            135
//   1M                 10000     1,000,000      1.41   706,795      0.46           1.14          1324           1012
// (other engineers' jobs shared the cores: runs vary by about +-30 %)
//
// Before it (commit 2b1f067: candidate nodes sorted per task), same machine:
//   10k                 1000        10,000     39.20       255      0.06           0.06           102             21
//   constraint+global   1000       100,980     58.07     1,739      0.46           0.90           215            128
//   100k and 1M were not run: at 255 tasks/s 100k takes about 6.5 min, and 1M on 10,000 nodes
//   hours; the old steady pass over this bench's 1M running tasks took 11.5 s (12.1 s on copies).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

// Nodes: every other one has a zone label (a-d), 1 in 100 is drained, 1 in 100 down, 3 are managers.
const SCENARIOS = {
  '10k': { nodes: 1_000, services: 10, replicas: 1_000, needMiB: 512 },
  '100k': { nodes: 1_000, services: 100, replicas: 1_000, needMiB: 1_024 },
  // zone==a holds 1 node in 8; plus one global service (a task on every eligible node)
  'constraint+global': { nodes: 1_000, services: 100, replicas: 1_000, constraint: 'node.labels.zone==a', global: true, needMiB: 1_024 },
  '1M': { nodes: 10_000, services: 1_000, replicas: 1_000, needMiB: 3_072 },
};

// deterministic IDs shaped like swarm's (25 chars, base 36)
let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const id = () => Array.from({ length: 25 }, () => '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(rand() * 36)]).join('');
let seq = 0;
const newId = () => `t${(++seq).toString(36).padStart(24, '0')}`;

function build(sc) {
  const nodes = [];
  for (let i = 0; i < sc.nodes; i++) {
    nodes.push({
      ID: id(),
      Spec: { Availability: i % 100 === 7 ? 'drain' : 'active', Role: i < 3 ? 'manager' : 'worker', Labels: i % 2 ? {} : { zone: 'abcd'[(i / 2) % 4] } },
      Status: { State: i % 100 === 13 ? 'down' : 'ready' },
      Description: { Hostname: `node-${i}`, Platform: { OS: 'linux', Architecture: 'x86_64' } },
    });
  }
  const services = [];
  const template = (name) => ({
    ContainerSpec: { Image: 'busybox:latest', Command: ['sleep', 'infinity'], Env: [`NAME=${name}`] },
    RestartPolicy: { Condition: 'any', MaxAttempts: 0 },
    ...(sc.constraint ? { Placement: { Constraints: [sc.constraint] } } : {}),
  });
  for (let i = 0; i < sc.services; i++) {
    const name = `svc-${i}`;
    services.push({ ID: id(), Spec: { Name: name, Mode: { Replicated: { Replicas: sc.replicas } }, TaskTemplate: template(name), UpdateConfig: { Parallelism: 1 } } });
  }
  if (sc.global) services.push({ ID: id(), Spec: { Name: 'global', Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: 'busybox:latest' } } } });
  return { nodes, services };
}

async function child(name) {
  const { plan } = await import('../dist/src/swarm/manager/planner.js');
  const sc = SCENARIOS[name];
  const { nodes, services } = build(sc);
  const now = Date.parse('2025-01-01T00:00:00Z');
  const mib = (b) => Math.round(b / 2 ** 20);
  let heap = 0;
  const timed = (fn) => {
    const t0 = performance.now();
    const r = fn();
    const s = (performance.now() - t0) / 1000;
    heap = Math.max(heap, process.memoryUsage().heapUsed);
    return [r, s];
  };
  const [p1, s1] = timed(() => plan(services, [], nodes, { now, newId }));
  const placed = p1.create.filter((t) => t.NodeID && t.Status.State === 'assigned').length;
  const running = p1.create.map((t) => ({ ...t, Status: { ...t.Status, State: 'running', Message: 'started' } }));
  p1.create.length = 0;
  const empty = (p) => p.create.length + p.update.length + p.remove.length === 0;
  const [p2, s2] = timed(() => plan(services, running, nodes, { now: now + 1000, newId }));
  const copies = running.map((t) => JSON.parse(JSON.stringify(t)));
  running.length = 0;
  const [p3, s3] = timed(() => plan(services, copies, nodes, { now: now + 2000, newId }));
  process.stdout.write(JSON.stringify({
    nodes: nodes.length, tasks: copies.length, placed, s1, s2, s3, steadyEmpty: empty(p2) && empty(p3),
    rss: mib(process.resourceUsage().maxRSS * 1024), heap: mib(heap),
  }) + '\n');
}

function memAvailableMiB() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : Infinity;
}

function parent() {
  const names = (process.env.SCENARIOS ?? Object.keys(SCENARIOS).join(',')).split(',').filter(Boolean);
  const limit = Number(process.env.TIMEOUT_S ?? 120);
  const rows = [['scenario', 'nodes', 'tasks placed', 'pass 1 s', 'placed/s', 'steady s', 'steady/etcd s', 'peak RSS MiB', 'peak heap MiB']];
  for (const name of names) {
    const sc = SCENARIOS[name];
    if (!sc) { console.error(`unknown scenario ${name} (${Object.keys(SCENARIOS).join(', ')})`); process.exitCode = 2; continue; }
    const avail = memAvailableMiB();
    if (avail < sc.needMiB * 1.25) {
      console.log(`${name}: skipped, needs about ${sc.needMiB} MiB and only ${Math.round(avail)} MiB are available`);
      continue;
    }
    const r = spawnSync(process.execPath, [`--max-old-space-size=${sc.needMiB}`, self, '--child', name], { encoding: 'utf8', timeout: limit * 1000, killSignal: 'SIGKILL', maxBuffer: 1 << 20 });
    if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') { rows.push([name, String(sc.nodes), `timed out after ${limit} s`, '', '', '', '', '', '']); continue; }
    if (r.status !== 0) { rows.push([name, String(sc.nodes), `failed: ${(r.stderr || '').trim().split('\n').slice(-1)[0]}`, '', '', '', '', '', '']); continue; }
    const x = JSON.parse(r.stdout.trim().split('\n').pop());
    rows.push([name, String(x.nodes), x.placed.toLocaleString('en'), x.s1.toFixed(2), Math.round(x.placed / x.s1).toLocaleString('en'),
      x.s2.toFixed(2) + (x.steadyEmpty ? '' : ' (NOT EMPTY)'), x.s3.toFixed(2), String(x.rss), String(x.heap)]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd());
}

if (process.argv[2] === '--child') await child(process.argv[3]);
else parent();
