import { promises as fs } from 'node:fs';
import { run, runOk } from '../../util/exec.js';

// Link plumbing for the network drivers, done with iproute2 in as few process spawns as possible:
// a container's side is configured by one shell script run in its namespace.

export async function linkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', name])).code === 0;
}

export async function sysctl(key: string, value: string): Promise<void> {
  await fs.writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value).catch(() => undefined);
}

/** Creates (or repairs after a restart) a bridge with the gateway address, up. */
export async function ensureBridge(name: string, gatewayCidr: string | undefined, mtu: number): Promise<void> {
  if (!(await linkExists(name))) await runOk('ip', ['link', 'add', 'name', name, 'mtu', String(mtu), 'type', 'bridge']);
  const cmds = [`link set ${name} up`];
  if (gatewayCidr) cmds.unshift(`addr replace ${gatewayCidr} dev ${name}`);
  await runOk('ip', ['-batch', '-'], { input: cmds.join('\n') + '\n' });
  // 127.0.0.1 -> published port: DNATed packets keep a loopback source until masqueraded.
  await sysctl(`net.ipv4.conf.${name}.route_localnet`, '1');
}

export async function deleteLink(name: string): Promise<void> {
  await run('ip', ['link', 'del', 'dev', name]);
}

/** `parent.VLAN` creates the VLAN sub-interface of parent when missing; returns whether it did. */
export async function ensureParent(parent: string): Promise<boolean> {
  if (await linkExists(parent)) return false;
  const m = /^(.+)\.(\d+)$/.exec(parent);
  if (!m || !(await linkExists(m[1]))) throw new Error(`-o parent interface was not found on the host: ${parent}`);
  await runOk('ip', ['link', 'add', 'link', m[1], 'name', parent, 'type', 'vlan', 'id', m[2]]);
  await runOk('ip', ['link', 'set', parent, 'up']);
  return true;
}

export interface IfaceConfig {
  ifname: string;
  mac: string;
  cidr: string; // ip/prefix
  gateway?: string; // default route through it
  mtu: number;
  /** send 127.0.0.11:53 to this address (the embedded DNS) */
  dnsTo?: string;
}

/**
 * A veth pair: `hostIf` enslaved to `bridge` here, its peer in `netns` configured as `cfg`.
 * `isolated`: the bridge forwards nothing between isolated ports (enable_icc=false).
 */
export async function addVeth(hostIf: string, bridge: string, netns: string, cfg: IfaceConfig, isolated = false): Promise<void> {
  await runOk('ip', ['-batch', '-'], {
    input: `link add ${hostIf} mtu ${cfg.mtu} master ${bridge} type veth peer name ${cfg.ifname} mtu ${cfg.mtu} netns ${netns}\n` +
      `${isolated ? `link set ${hostIf} type bridge_slave isolated on\n` : ''}link set ${hostIf} up\n`,
  });
  await configureInside(netns, cfg);
}

/** A macvlan (bridge mode) child of `parent`, moved into `netns` and configured as `cfg`. */
export async function addMacvlan(tmpName: string, parent: string, netns: string, cfg: IfaceConfig): Promise<void> {
  await runOk('ip', ['-batch', '-'], {
    input: `link add link ${parent} name ${tmpName} mtu ${cfg.mtu} type macvlan mode bridge\nlink set ${tmpName} netns ${netns}\n`,
  });
  await configureInside(netns, { ...cfg }, tmpName);
}

/**
 * What configures an interface inside a container's namespace (run under `nsenter --net=`): one
 * `ip -batch` when only addresses and routes are needed, a shell script when the embedded DNS also
 * needs a sysctl and nft rules. Every container start pays for these processes, so there are few.
 */
export function insideCommand(cfg: IfaceConfig, renameFrom?: string): { args: string[]; input: string } {
  const batch: string[] = [];
  if (renameFrom) batch.push(`link set ${renameFrom} name ${cfg.ifname}`);
  batch.push(`link set ${cfg.ifname} address ${cfg.mac}`, `addr add ${cfg.cidr} dev ${cfg.ifname}`, `link set ${cfg.ifname} up`);
  if (cfg.gateway) batch.push(`route replace default via ${cfg.gateway} dev ${cfg.ifname}`);
  if (!cfg.dnsTo) return { args: ['ip', '-batch', '-'], input: batch.join('\n') + '\n' };
  const lines = ['set -e', `ip -batch - <<'EOF'`, ...batch, 'EOF', ...dnsLines(cfg.ifname, cfg.dnsTo)];
  return { args: ['sh', '-s'], input: lines.join('\n') + '\n' };
}

/** 127.0.0.11:53 in the container's namespace goes to `dnsTo` (the embedded DNS) through `ifname`. */
function dnsLines(ifname: string, dnsTo: string): string[] {
  // route_localnet lets the 127.0.0.1-sourced query be routed out before it is masqueraded.
  return [`echo 1 > /proc/sys/net/ipv4/conf/${ifname}/route_localnet`, `nft -f - <<'EOF'
table ip shoal-dns
delete table ip shoal-dns
table ip shoal-dns {
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr 127.0.0.11 meta l4proto { tcp, udp } th dport 53 dnat to ${dnsTo}:53
  }
  chain postrouting {
    type nat hook postrouting priority 100; policy accept;
    ip saddr 127.0.0.0/8 ip daddr ${dnsTo} masquerade
  }
}
EOF`];
}

/** A running container joins a network that brings the embedded DNS: its queries go to `dnsTo` from now on. */
export async function redirectDns(netns: string, ifname: string, dnsTo: string): Promise<void> {
  await runOk('nsenter', [`--net=${netns}`, 'sh', '-s'], { input: ['set -e', ...dnsLines(ifname, dnsTo)].join('\n') + '\n' });
}

async function configureInside(netns: string, cfg: IfaceConfig, renameFrom?: string): Promise<void> {
  const c = insideCommand(cfg, renameFrom);
  await runOk('nsenter', [`--net=${netns}`, ...c.args], { input: c.input });
}

/** Removes an interface from a container's namespace (disconnect of a running container). */
export async function deleteInside(netns: string, ifname: string): Promise<void> {
  await run('nsenter', [`--net=${netns}`, 'ip', 'link', 'del', 'dev', ifname]);
}
