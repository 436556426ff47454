#!/usr/bin/env node
// bench/overlay.mjs: swarm networking on 3 test hosts (1 manager + 2 workers, network namespaces,
// see test/README.md). A busybox httpd service with 3 replicas on h1 and h2 (none on h3) on an
// overlay, published on 8080 through the routing mesh; a client service task on h2. wrk (bounded:
// DURATION seconds, CONNS connections) measures requests per second through
//   a. the ingress port on h3 (a node without a task), from the lab namespace
//   b. the VIP, from the client task's network namespace (nft DNAT in that namespace)
//   c. one task's overlay address directly, from the same namespace
// and bulk throughput (a 20 MB file over HTTP) container to container over the overlay (VXLAN),
// over an encrypted overlay (`-o encrypted`: VXLAN inside WireGuard; wireguard-go where the kernel
// has no WireGuard) and host to host over the lab bridge, plus c. over the encrypted overlay. Docker 20.10 cannot do a. and b. on this kernel (no
// IPVS: ports refuse, VIPs answer "No route to host"); its host-mode figure is quoted from
// /work/shared/lab/baseline-docker-20.10.md. Run after `bash scripts/setup.sh`: node bench/overlay.mjs
import { createSwarmLab } from '../dist/test/harness/swarm.js';
import { execFileSync } from 'node:child_process';
import { dockerOk, median, sleep, until as untilMs } from './lib.mjs';
const until = (what, fn, ms = 60_000) => untilMs(what, fn, ms, 300);

const DURATION = Number(process.env.DURATION ?? 4);
const CONNS = Number(process.env.CONNS ?? 16);
const wrkOut = (argv) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: (DURATION + 20) * 1000 });
const rps = (out) => Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
const mbps = (out) => {
  const m = /Transfer\/sec:\s+([\d.]+)(\w+)/.exec(out);
  if (!m) return 0;
  const f = { B: 1 / 2 ** 20, KB: 1 / 1024, MB: 1, GB: 1024 }[m[2]] ?? 1;
  return Number(m[1]) * f * 8 * 1.048576; // MiB/s -> Mbit/s
};

const res = {};
const lab = await createSwarmLab({ hosts: 3 });
try {
  const [h1, h2, h3] = lab.hosts;
  const d = dockerOk;
  await d(h1, ['network', 'create', '-d', 'overlay', 'benchnet']);
  await d(h1, ['network', 'create', '-d', 'overlay', '-o', 'encrypted', 'benchsec']);
  const HTTPD = 'mkdir -p /www && echo hello > /www/index.html && dd if=/dev/zero of=/www/big bs=1M count=20 2>/dev/null && exec httpd -f -p 80 -h /www';
  await d(h1, ['service', 'create', '--detach', '--name', 'web', '--replicas', '3', '--network', 'benchnet', '--network', 'benchsec', '-p', '8080:80', '--constraint', 'node.hostname!=h3', 'busybox', 'sh', '-c', HTTPD]);
  await d(h1, ['service', 'create', '--detach', '--name', 'client', '--network', 'benchnet', '--network', 'benchsec', '--constraint', 'node.hostname==h2', 'busybox', 'sleep', '3600']);
  await until('4 tasks running', async () => (await d(h1, ['service', 'ls', '--format', '{{.Replicas}}'])).split('\n').sort().join(' ') === '1/1 3/3');
  const clientId = await until('client container', async () => d(h2, ['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=client']));
  const pid = await d(h2, ['inspect', '-f', '{{.State.Pid}}', clientId]);
  const inClient = (args) => ['nsenter', `--net=/proc/${pid}/ns/net`, ...args];
  const netId = JSON.parse(await d(h1, ['network', 'inspect', 'benchnet']))[0].Id;
  const vip = JSON.parse(await d(h1, ['service', 'inspect', '-f', '{{json .Endpoint.VirtualIPs}}', 'web'])).find((v) => v.NetworkID === netId).Addr.split('/')[0];
  // a task on the other host (h1), so the direct path crosses VXLAN like most VIP connections
  const webOnH1 = (await d(h1, ['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web'])).split('\n')[0];
  const webNets = JSON.parse(await d(h1, ['inspect', webOnH1]))[0].NetworkSettings.Networks;
  const taskIp = webNets.benchnet.IPAddress;
  const secIp = webNets.benchsec.IPAddress;
  const wgImpl = (await h1.exec(['ip', '-d', '-j', 'link', 'show', 'dev', 'wg-shoal'])).stdout.includes('"info_kind":"wireguard"') ? 'kernel WireGuard' : 'wireguard-go';
  await until('mesh answers on h3', async () => (await lab.exec(['curl', '-s', '-m', '2', `http://${h3.addr}:8080/`])).stdout.includes('hello'));
  await until('VIP answers', async () => wrkOut(inClient(['wget', '-qO-', `http://${vip}/`])).includes('hello'));
  await until('encrypted overlay answers', async () => { try { return wrkOut(inClient(['wget', '-qO-', `http://${secIp}/`])).includes('hello'); } catch { return false; } });
  const wrk = (url) => ['wrk', '-t2', `-c${CONNS}`, `-d${DURATION}s`, url];
  res.a = rps(wrkOut(['ip', 'netns', 'exec', lab.name, ...wrk(`http://${h3.addr}:8080/`)]));
  res.b = rps(wrkOut(inClient(wrk(`http://${vip}/`))));
  res.c = rps(wrkOut(inClient(wrk(`http://${taskIp}/`))));
  res.cSec = rps(wrkOut(inClient(wrk(`http://${secIp}/`))));
  // bulk: 20 MB per request, 2 connections
  const bulk = (url) => ['wrk', '-t1', '-c2', `-d${DURATION}s`, url];
  res.overlay = mbps(wrkOut(inClient(bulk(`http://${taskIp}/big`))));
  res.encrypted = mbps(wrkOut(inClient(bulk(`http://${secIp}/big`))));
  res.wgImpl = wgImpl;
  // host to host over the lab bridge: busybox httpd in h1's host namespace, client in h2's
  await h1.execOk(['sh', '-c', 'mkdir -p /tmp/bench-www && dd if=/dev/zero of=/tmp/bench-www/big bs=1M count=20 2>/dev/null']);
  const srv = h1.exec(['busybox', 'timeout', String(DURATION + 15), 'busybox', 'httpd', '-f', '-p', '9090', '-h', '/tmp/bench-www']);
  await sleep(500);
  res.bridge = mbps(wrkOut(['nsenter', `--net=/run/netns/${lab.name}h2`, ...bulk(`http://${h1.addr}:9090/big`)]).toString());
  await srv.catch(() => undefined);
} finally {
  await lab.destroy();
}

const pct = (x) => `${Math.round((100 * x) / res.c)}%`;
console.log(`\nshoal swarm networking, 3 test hosts, wrk -t2 -c${CONNS} -d${DURATION}s (a new connection per request), busybox httpd x3 on h1+h2\n`);
console.log('| path | shoal req/s | of direct | Docker 20.10 on this kernel |');
console.log('|---|---|---|---|');
console.log(`| a. ingress port on h3 (no task there), from the lab netns | ${res.a.toFixed(0)} | ${pct(res.a)} | refused (no IPVS) |`);
console.log(`| b. service VIP from a task on h2 | ${res.b.toFixed(0)} | ${pct(res.b)} | "No route to host" (no IPVS) |`);
console.log(`| c. one task's overlay address directly (h2 -> h1, VXLAN) | ${res.c.toFixed(0)} | 100% | works (task IPs), not measured here |`);
console.log(`| c'. the same over an encrypted overlay (VXLAN in ${res.wgImpl}) | ${res.cSec.toFixed(0)} | ${pct(res.cSec)} | - |`);
console.log(`| Docker's only working publish path: host mode, one httpd | - | - | 1454 (baseline-docker-20.10.md) |`);
const ofBridge = (x) => `${Math.round((100 * x) / res.bridge)}% of the lab bridge`;
console.log(`\nbulk HTTP (20 MB file, 2 connections, container->container h2 -> h1 unless said):`);
console.log(`| path | Mbit/s | |`);
console.log(`|---|---|---|`);
console.log(`| lab bridge, host->host | ${res.bridge.toFixed(0)} | 100% |`);
console.log(`| plain overlay (VXLAN) | ${res.overlay.toFixed(0)} | ${ofBridge(res.overlay)} |`);
console.log(`| encrypted overlay (VXLAN in ${res.wgImpl}) | ${res.encrypted.toFixed(0)} | ${ofBridge(res.encrypted)}, ${Math.round((100 * res.encrypted) / res.overlay)}% of plain |`);
