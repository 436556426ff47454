import { run, type RunResult } from '../../util/exec.js';
import { intToIp, ipToInt, macFor, parseCidr } from './ipam.js';
import { insideCommand } from './links.js';

// The overlay data plane on one host: per overlay network a Linux bridge and a VXLAN device
// enslaved to it, both in the host namespace, and the remote endpoints programmed statically.
//
//   container netns          host netns
//   eth1 10.0.1.5 ── veth ── ov-<id> (bridge) ── vx-<id> (vxlan VNI, UDP 4789, local VTEP)
//                                                   ├ neigh  10.0.1.7 → 02:42:0a:00:01:07  (proxy ARP)
//                                                   └ fdb    02:42:0a:00:01:07 → dst VTEP 2
//
// - No learning, no flooding: the VXLAN device is `nolearning` and has no all-zeros FDB entry,
//   so broadcasts (ARP) never leave the host. With `proxy` it answers ARP requests itself from
//   its neighbour table, which holds exactly the remote endpoints the manager told us about;
//   its FDB sends each remote MAC to that endpoint's host (VTEP). applyOverlay converges both
//   tables to the given peers (adds, moves, deletes), so it can be called again at any time.
// - The gateway address is NOT put on any host. Docker's overlay containers do not route through
//   it either (their default route goes through docker_gwbridge); if every host carried it, each
//   host would route into every overlay subnet and forward between overlays (and from local
//   bridges into them), breaking isolation. Without an address the bridge is a pure L2 switch,
//   the host has no route into the subnet, and overlays stay isolated from each other and from
//   the host. The gateway stays reserved by the IPAM only.
// - `hostIp` (optional) is this node's own endpoint on the network (for `ingress`: the routing
//   mesh's SNAT address; for a service network: a node LB endpoint). It goes on the bridge with
//   the MAC derived from it (02:42:<ip>), so other hosts list it as an ordinary peer and their
//   proxy ARP answers for it. Unlike a shared gateway, it is unique per node, so replies from a
//   backend on another node come back to the node that sent the request.
// - Peers whose VTEP is this host's are skipped: local endpoints are reached on the bridge.
//
// Every command runs through `exec` (default: this process's namespaces), so tests and callers
// can aim it at another host namespace.

export type Runner = (cmd: string, args: string[], opts?: { input?: string }) => Promise<RunResult>;

export interface OverlayOptions {
  /** runs iproute2 (default: here, in this process's namespaces) */
  exec?: Runner;
}

export interface OverlayNet {
  id: string;
  vni: number;
  subnet: string; // CIDR
  bridgeName: string;
  vxlanName: string;
  /** default 1450 (1500 minus the 50 bytes of VXLAN encapsulation) */
  mtu?: number;
  /** this host's underlay (data path) address: source of the VXLAN packets */
  localVtep: string;
  /** VXLAN UDP port (swarm DataPathPort), default 4789 */
  port?: number;
  /** this node's own address on the network, put on the bridge (see the header) */
  hostIp?: string;
}

export interface OverlayPeer {
  /** a remote endpoint's address on the overlay */
  ip: string;
  mac: string;
  /** the underlay address of the host it lives on */
  vtep: string;
}

export interface OverlayEndpoint {
  /** the container's network namespace (a path, e.g. <exec-root>/netns/<id>, or an `ip netns` name) */
  netns: string;
  /** the veth end left on the bridge (host namespace) */
  hostIf: string;
  /** the interface name inside the container, e.g. eth1 */
  ifname: string;
  ip: string;
  /** default: derived from ip (02:42:<ip>), which is what peers on other hosts are told */
  mac?: string;
  /** a default route through this address (none by default: overlays are not the way out) */
  gateway?: string;
}

export const DEFAULT_OVERLAY_MTU = 1450;
export const DEFAULT_VXLAN_PORT = 4789;

/** Link names for a network id, within the kernel's 15 characters. */
export function overlayLinkNames(networkId: string): { bridgeName: string; vxlanName: string } {
  const s = networkId.slice(0, 12);
  return { bridgeName: `ov-${s}`, vxlanName: `vx-${s}` };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function checkName(what: string, name: string): void {
  if (!NAME.test(name)) throw new Error(`overlay: invalid ${what} name ${JSON.stringify(name)}`);
}
function checkIp(ip: string): string {
  return intToIp(ipToInt(ip)); // throws on garbage, normalises
}
function checkMac(mac: string): string {
  const m = mac.toLowerCase();
  if (!MAC.test(m)) throw new Error(`overlay: invalid MAC address ${JSON.stringify(mac)}`);
  return m;
}

async function must(exec: Runner, cmd: string, args: string[], input?: string): Promise<string> {
  const r = await exec(cmd, args, input === undefined ? undefined : { input });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  return r.stdout;
}

interface LinkJson {
  ifname: string;
  mtu?: number;
  master?: string;
  address?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; learning?: boolean; proxy?: boolean } };
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function showLink(exec: Runner, name: string): Promise<LinkJson | undefined> {
  const r = await exec('ip', ['-d', '-j', 'addr', 'show', 'dev', name]);
  if (r.code !== 0) return undefined; // does not exist
  return (JSON.parse(r.stdout) as LinkJson[])[0];
}

/**
 * Creates what is missing (bridge, VXLAN device), repairs what differs (VNI, port, VTEP, MTU,
 * master, the host address) and converges the VXLAN device's neighbour and FDB entries to
 * exactly `peers`. Safe to call repeatedly.
 */
export async function applyOverlay(net: OverlayNet, peers: OverlayPeer[], opts: OverlayOptions = {}): Promise<void> {
  const exec = opts.exec ?? run;
  checkName('bridge', net.bridgeName);
  checkName('vxlan', net.vxlanName);
  const subnet = parseCidr(net.subnet);
  const mtu = net.mtu ?? DEFAULT_OVERLAY_MTU;
  const port = net.port ?? DEFAULT_VXLAN_PORT;
  const vtep = checkIp(net.localVtep);
  if (!Number.isInteger(net.vni) || net.vni < 1 || net.vni > 2 ** 24 - 1) throw new Error(`overlay: invalid VNI ${net.vni}`);
  const hostIp = net.hostIp ? checkIp(net.hostIp) : undefined;

  // desired peers, keyed by address (the last word wins), without this host's own endpoints
  const want = new Map<string, { mac: string; vtep: string }>();
  for (const p of peers) {
    const pv = checkIp(p.vtep);
    if (pv === vtep) continue;
    want.set(checkIp(p.ip), { mac: checkMac(p.mac), vtep: pv });
  }

  const [br, vx] = await Promise.all([showLink(exec, net.bridgeName), showLink(exec, net.vxlanName)]);
  if (br && br.linkinfo?.info_kind !== 'bridge') throw new Error(`overlay: ${net.bridgeName} exists and is not a bridge`);
  const cmds: string[] = [];
  if (!br) cmds.push(`link add name ${net.bridgeName} mtu ${mtu} type bridge`);
  const d = vx?.linkinfo?.info_data;
  const vxOk = vx && vx.linkinfo?.info_kind === 'vxlan' && d?.id === net.vni && d.port === port && d.local === vtep && d.learning === false && d.proxy === true;
  if (vx && !vxOk) cmds.push(`link del dev ${net.vxlanName}`);
  const freshVx = !vxOk;
  if (freshVx) cmds.push(`link add name ${net.vxlanName} mtu ${mtu} type vxlan id ${net.vni} dstport ${port} local ${vtep} nolearning proxy`);
  if (!br || br.mtu !== mtu) cmds.push(`link set dev ${net.bridgeName} mtu ${mtu}`);
  if (freshVx || vx?.mtu !== mtu || vx?.master !== net.bridgeName) cmds.push(`link set dev ${net.vxlanName} mtu ${mtu} master ${net.bridgeName}`);
  // the host address: exactly hostIp (or nothing) in IPv4
  const haveAddrs = (br?.addr_info ?? []).filter((a) => a.family === 'inet');
  for (const a of haveAddrs) {
    if (a.local !== hostIp || a.prefixlen !== subnet.prefix) cmds.push(`addr del ${a.local}/${a.prefixlen} dev ${net.bridgeName}`);
  }
  if (hostIp) {
    const mac = macFor(ipToInt(hostIp));
    if (br?.address !== mac) cmds.push(`link set dev ${net.bridgeName} address ${mac}`);
    if (!haveAddrs.some((a) => a.local === hostIp && a.prefixlen === subnet.prefix)) cmds.push(`addr add ${hostIp}/${subnet.prefix} dev ${net.bridgeName}`);
  }
  cmds.push(`link set dev ${net.vxlanName} up`, `link set dev ${net.bridgeName} up`);
  await must(exec, 'ip', ['-batch', '-'], cmds.join('\n') + '\n');

  // neighbour (proxy ARP) and FDB entries of the VXLAN device
  const [neighJson, fdbJson] = freshVx
    ? ['[]', '[]']
    : await Promise.all([must(exec, 'ip', ['-j', 'neigh', 'show', 'dev', net.vxlanName]), must(exec, 'bridge', ['-j', 'fdb', 'show', 'dev', net.vxlanName])]);
  const neighs = JSON.parse(neighJson || '[]') as { dst: string; lladdr?: string; state?: string[] }[];
  const fdbs = (JSON.parse(fdbJson || '[]') as { mac: string; dst?: string; flags?: string[]; master?: string }[])
    .filter((f) => f.dst !== undefined && !f.master && (f.flags ?? []).includes('self'));

  const ipCmds: string[] = [];
  for (const n of neighs) {
    const w = want.get(n.dst);
    if (!w || w.mac !== n.lladdr?.toLowerCase() || !(n.state ?? []).includes('PERMANENT')) ipCmds.push(`neigh del ${n.dst} dev ${net.vxlanName}`);
  }
  for (const [ip, w] of want) {
    const n = neighs.find((x) => x.dst === ip);
    if (!n || n.lladdr?.toLowerCase() !== w.mac || !(n.state ?? []).includes('PERMANENT')) ipCmds.push(`neigh replace ${ip} lladdr ${w.mac} dev ${net.vxlanName} nud permanent`);
  }
  const wantFdb = new Map<string, string>(); // mac → vtep
  for (const w of want.values()) wantFdb.set(w.mac, w.vtep);
  const fdbCmds: string[] = [];
  for (const f of fdbs) {
    if (wantFdb.get(f.mac.toLowerCase()) !== f.dst) fdbCmds.push(`fdb del ${f.mac} dev ${net.vxlanName} dst ${f.dst} self`);
  }
  for (const [mac, dst] of wantFdb) {
    if (!fdbs.some((f) => f.mac.toLowerCase() === mac && f.dst === dst)) fdbCmds.push(`fdb append ${mac} dev ${net.vxlanName} dst ${dst} self permanent`);
  }
  if (ipCmds.length) await must(exec, 'ip', ['-batch', '-'], ipCmds.join('\n') + '\n');
  if (fdbCmds.length) await must(exec, 'bridge', ['-batch', '-'], fdbCmds.join('\n') + '\n');
}

/** Deletes the network's VXLAN device and bridge (their neighbour/FDB entries go with them). */
export async function removeOverlay(net: Pick<OverlayNet, 'bridgeName' | 'vxlanName'>, opts: OverlayOptions = {}): Promise<void> {
  const exec = opts.exec ?? run;
  checkName('bridge', net.bridgeName);
  checkName('vxlan', net.vxlanName);
  for (const name of [net.vxlanName, net.bridgeName]) {
    const r = await exec('ip', ['link', 'del', 'dev', name]);
    if (r.code !== 0 && (await showLink(exec, name))) throw new Error(`ip link del ${name}: ${r.stderr.trim()}`);
  }
}

/**
 * Connects a container: a veth pair, one end on the network's bridge, the other in the
 * container's namespace with the endpoint's address and MAC (the overlay MTU on both ends).
 */
export async function attachEndpoint(net: Pick<OverlayNet, 'subnet' | 'bridgeName' | 'mtu'>, ep: OverlayEndpoint, opts: OverlayOptions = {}): Promise<void> {
  const exec = opts.exec ?? run;
  checkName('bridge', net.bridgeName);
  checkName('host interface', ep.hostIf);
  checkName('interface', ep.ifname);
  const mtu = net.mtu ?? DEFAULT_OVERLAY_MTU;
  const ip = checkIp(ep.ip);
  const mac = checkMac(ep.mac ?? macFor(ipToInt(ip)));
  const prefix = parseCidr(net.subnet).prefix;
  if (/\s/.test(ep.netns)) throw new Error(`overlay: invalid netns ${JSON.stringify(ep.netns)}`);
  await must(exec, 'ip', ['-batch', '-'],
    `link add ${ep.hostIf} mtu ${mtu} master ${net.bridgeName} type veth peer name ${ep.ifname} mtu ${mtu} netns ${ep.netns}\nlink set ${ep.hostIf} up\n`);
  try {
    const c = insideCommand({ ifname: ep.ifname, mac, cidr: `${ip}/${prefix}`, gateway: ep.gateway ? checkIp(ep.gateway) : undefined, mtu });
    await must(exec, 'nsenter', [`--net=${ep.netns}`, ...c.args], c.input);
  } catch (e) {
    await exec('ip', ['link', 'del', 'dev', ep.hostIf]);
    throw e;
  }
}

/** Disconnects a container: deleting the host end removes both ends of the pair. */
export async function detachEndpoint(hostIf: string, opts: OverlayOptions = {}): Promise<void> {
  const exec = opts.exec ?? run;
  checkName('host interface', hostIf);
  await exec('ip', ['link', 'del', 'dev', hostIf]);
}
