import { run } from '../../util/exec.js';
import { intToIp, ipToInt } from './ipam.js';
import type { Runner } from './overlay.js';

// Swarm service load balancing in the kernel with nftables (this kernel has no IPVS), as whole
// tables built from the desired state and loaded in one `nft -f` transaction: a table is never
// half-updated, and loading it again is a no-op.
//
// (a) Service VIPs, table `ip shoal-lb` inside each client container's network namespace.
//     A new connection to a VIP is DNATed, in the output hook, to one of the service's task
//     addresses chosen by `numgen inc` (round robin, as IPVS's rr that Docker uses) or `numgen
//     random`, through an anonymous map. Only the first packet of a connection traverses nat
//     chains, so a connection stays on its backend for its whole life, also across table
//     replacements: removing a backend only stops NEW connections to it (its conntrack entries
//     live on until they end or time out; UDP "connections" included). The destination port is
//     kept. Without `ports` every TCP/UDP/SCTP port of the VIP is balanced, as Docker's VIPs do.
//     Connections to a VIP without backends (or to a port it does not serve) are rejected (TCP
//     reset, ICMP port unreachable) instead of timing out on an address nobody owns.
//
// (b) The ingress routing mesh, table `ip shoal-ingress` in the host namespace of every node.
//     A published port on any local address (`fib daddr type local`, from outside in prerouting
//     and from the node itself in output) is DNATed to a task on the ingress overlay, on any node,
//     and SNATed to this node's own ingress address (overlay.ts `hostIp` on the ingress bridge),
//     so the backend's reply comes back over the overlay to the node that holds the conntrack
//     entry, wherever the backend runs. The price (moby/moby#25526): the backend sees the
//     node's ingress address, not the client's.
//     `preserveClientIp` ports are DNATed to this node's own tasks only (the caller passes just
//     those) and not SNATed: the backend sees the real client, but its reply must be routed back
//     through this node (its default route must point at this host), so only tasks on the node
//     that received the connection can serve it, and a node without such a task rejects the
//     port (like Kubernetes' externalTrafficPolicy: Local; Docker's answer is `mode=host`
//     publishing). Spreading over nodes is then up to the external load balancer.
//     The forward chain keeps the ingress network closed to anything but mesh traffic (local
//     bridges cannot route into it), as Docker's separate ingress sandbox does.

export type LbProto = 'tcp' | 'udp' | 'sctp';
/** numgen mode: `inc` = round robin, `random` */
export type LbMode = 'inc' | 'random';

export const VIP_TABLE = 'shoal-lb';
export const INGRESS_TABLE = 'shoal-ingress';

export interface VipService {
  /** shown as the rule's comment (service name or id) */
  name?: string;
  vip: string;
  /** the service's task addresses on the VIP's network */
  backends: string[];
  /** only these ports are balanced (default: every TCP/UDP/SCTP port) */
  ports?: { proto: LbProto; port: number }[];
}

export interface PublishedPort {
  proto: LbProto;
  /** the port on every node */
  publishedPort: number;
  /** the port of the tasks */
  targetPort: number;
  /** task addresses on the ingress network (with preserveClientIp: this node's tasks only) */
  backends: string[];
  preserveClientIp?: boolean;
  name?: string;
}

export interface IngressConfig {
  /** the ingress overlay's bridge on this node */
  bridge: string;
  /** this node's address on the ingress network (the SNAT source) */
  nodeIp: string;
  ports: PublishedPort[];
}

export interface LbApplyOptions {
  /** run nft inside this network namespace (a path, via nsenter --net=) */
  netns?: string;
  /** runs the programs (default: here) */
  exec?: Runner;
}

const PROTOS: readonly LbProto[] = ['tcp', 'udp', 'sctp'];
const q = (s: string): string => JSON.stringify(s);

function addr(ip: string): string {
  return intToIp(ipToInt(ip));
}
function portNum(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`invalid port: ${p}`);
  return p;
}
function proto(p: string): LbProto {
  if (!PROTOS.includes(p as LbProto)) throw new Error(`invalid protocol: ${p}`);
  return p as LbProto;
}
function comment(name: string | undefined): string {
  return name ? ` comment ${q(name.replace(/["\\\n]/g, '').slice(0, 120))}` : '';
}
function ifname(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(name)) throw new Error(`invalid interface name ${q(name)}`);
  return name;
}

/** `dnat to` target spreading over the backends (`:port` appended to every one when given). */
export function dnatTarget(backends: string[], mode: LbMode, port?: number): string {
  const ips = [...new Set(backends.map(addr))];
  if (ips.length === 0) throw new Error('no backends');
  const p = port === undefined ? '' : `:${portNum(port)}`;
  if (ips.length === 1) return `${ips[0]}${p}`;
  return `numgen ${mode} mod ${ips.length} map { ${ips.map((ip, i) => `${i} : ${ip}`).join(', ')} }${p}`;
}

const chain = (name: string, hook: string, rules: string[]): string =>
  `  chain ${name} {\n${hook ? `    ${hook}\n` : ''}${rules.map((r) => `    ${r}\n`).join('')}  }\n`;

const table = (name: string, body: string): string => `table ip ${name}\ndelete table ip ${name}\ntable ip ${name} {\n${body}}\n`;

/** The VIP table for one client namespace (see the header, a). */
export function buildVipRuleset(services: VipService[], opts: { mode?: LbMode; table?: string } = {}): string {
  const mode = opts.mode ?? 'inc';
  const nat: string[] = [];
  const reject: string[] = [];
  const seen = new Set<string>();
  for (const s of services) {
    const vip = addr(s.vip);
    if (seen.has(vip)) throw new Error(`VIP ${vip} given twice`);
    seen.add(vip);
    const c = comment(s.name);
    const ports = (s.ports ?? []).map((p) => ({ proto: proto(p.proto), port: portNum(p.port) }));
    if (s.backends.length) {
      const to = dnatTarget(s.backends, mode);
      if (ports.length === 0) nat.push(`ip daddr ${vip} meta l4proto { tcp, udp, sctp } dnat to ${to}${c}`);
      for (const p of ports) nat.push(`ip daddr ${vip} ${p.proto} dport ${p.port} dnat to ${to}${c}`);
    }
    // reached only by what was not DNATed: no backends, or a port the VIP does not serve
    reject.push(`ip daddr ${vip} meta l4proto tcp reject with tcp reset${c}`);
    reject.push(`ip daddr ${vip} meta l4proto { udp, sctp } reject${c}`);
  }
  return table(opts.table ?? VIP_TABLE,
    chain('output', 'type nat hook output priority -100; policy accept;', nat) +
    chain('unserved', 'type filter hook output priority filter; policy accept;', reject));
}

/** The routing mesh table for one node (see the header, b). */
export function buildIngressRuleset(cfg: IngressConfig, opts: { mode?: LbMode; table?: string } = {}): string {
  const mode = opts.mode ?? 'inc';
  const br = q(ifname(cfg.bridge));
  const nodeIp = addr(cfg.nodeIp);
  const published: string[] = [];
  const snat: string[] = [];
  const reject: string[] = [];
  const seen = new Set<string>();
  for (const p of cfg.ports) {
    const pr = proto(p.proto);
    const port = portNum(p.publishedPort);
    const key = `${pr}/${port}`;
    if (seen.has(key)) throw new Error(`port ${key} published twice`);
    seen.add(key);
    const c = comment(p.name);
    if (p.backends.length === 0) {
      reject.push(pr === 'tcp' ? `tcp dport ${port} reject with tcp reset${c}` : `${pr} dport ${port} reject${c}`);
      continue;
    }
    published.push(`${pr} dport ${port} dnat to ${dnatTarget(p.backends, mode, p.targetPort)}${c}`);
    if (!p.preserveClientIp) snat.push(`oifname ${br} ct status dnat meta l4proto ${pr} ct original proto-dst ${port} snat to ${nodeIp}${c}`);
  }
  return table(opts.table ?? INGRESS_TABLE,
    chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', ['fib daddr type local jump published']) +
    chain('output', 'type nat hook output priority -100; policy accept;', ['fib daddr type local jump published']) +
    chain('published', '', published) +
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', snat) +
    chain('input', 'type filter hook input priority filter; policy accept;', reject) +
    chain('forward', 'type filter hook forward priority filter; policy accept;', [
      // bridged traffic of the overlay itself (br_netfilter shows it to the ip hooks)
      `iifname ${br} oifname ${br} accept`,
      `oifname ${br} ct status dnat accept`,
      `oifname ${br} ct state established,related accept`,
      `oifname ${br} drop`,
    ]));
}

function nsPrefix(netns: string | undefined): string[] {
  if (netns === undefined) return [];
  if (!netns || /\s/.test(netns)) throw new Error(`invalid netns ${q(netns)}`);
  return ['nsenter', `--net=${netns}`];
}

async function runIn(cmd: string[], input: string | undefined, opts: LbApplyOptions): Promise<{ code: number; stderr: string }> {
  const exec = opts.exec ?? run;
  const argv = [...nsPrefix(opts.netns), ...cmd];
  return exec(argv[0]!, argv.slice(1), input === undefined ? undefined : { input });
}

/** Loads a ruleset (one of the builders' output) in one transaction. */
export async function applyLbRuleset(text: string, opts: LbApplyOptions = {}): Promise<void> {
  const r = await runIn(['nft', '-f', '-'], text, opts);
  if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim() || `exit ${r.code}`}`);
}

/** Removes a table; a missing one is fine. */
export async function removeLbTable(name: string, opts: LbApplyOptions = {}): Promise<void> {
  await runIn(['nft', 'delete', 'table', 'ip', name], undefined, opts);
}

/** buildVipRuleset + apply, in a client container's namespace. */
export async function applyVips(services: VipService[], opts: LbApplyOptions & { mode?: LbMode } = {}): Promise<void> {
  await applyLbRuleset(buildVipRuleset(services, { mode: opts.mode }), opts);
}

/**
 * buildIngressRuleset + apply, in a node's host namespace; also turns on what the mesh needs
 * there: IP forwarding, and route_localnet on the ingress bridge (127.0.0.1:<published port>
 * from the node itself leaves on the bridge, SNATed).
 */
export async function applyIngress(cfg: IngressConfig, opts: LbApplyOptions & { mode?: LbMode } = {}): Promise<void> {
  const text = buildIngressRuleset(cfg, { mode: opts.mode });
  const br = ifname(cfg.bridge);
  const script = `echo 1 > /proc/sys/net/ipv4/ip_forward && echo 1 > /proc/sys/net/ipv4/conf/${br}/route_localnet && exec nft -f -`;
  const r = await runIn(['sh', '-c', script], text, opts);
  if (r.code !== 0) throw new Error(`ingress: ${r.stderr.trim() || `exit ${r.code}`}`);
}
