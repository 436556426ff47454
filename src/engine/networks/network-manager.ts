import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BadRequest, Conflict, Forbidden, NotFound, ServerError } from '../../api/errors.js';
import type { Logger } from '../../daemon/logger.js';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { newId } from '../../util/ids.js';
import type { ContainerRecord } from '../containers/types.js';
import type { EventBus } from '../events.js';
import { Filters } from '../images/filters.js';
import { EmbeddedDns } from './dns-server.js';
import { applyRuleset, buildRuleset, type FwBridge, type FwPort } from './firewall.js';
import { contains, DEFAULT_POOLS, firstHost, formatCidr, intToIp, ipToInt, macFor, nextFree, overlaps, parseCidr, pickSubnet, type AddressPool, type Cidr } from './ipam.js';
import { addMacvlan, addVeth, deleteInside, deleteLink, ensureBridge, ensureParent, redirectDns, sysctl } from './links.js';
import { PortAllocator, requestedPorts, validatePortBindings } from './ports.js';
import { applyOverlay, DEFAULT_OVERLAY_MTU, overlayLinkNames, removeOverlay } from './overlay.js';
import { applyIngress, applyVips, INGRESS_TABLE, removeLbTable, VIP_TABLE } from './service-lb.js';
import { ENCRYPTED_OVERLAY_MTU, isEncrypted, type TunnelConfig, type WireguardTunnel } from './wireguard.js';

/** An overlay network as the swarm agent hands it over (the manager's view for this node). */
export interface SwarmNetworkView {
  id: string; name: string; vni: number; subnet: string; gateway: string; attachable: boolean; internal: boolean;
  /** endpoints on other nodes: address on the overlay, and that node's address as VTEP */
  peers: { ip: string; vtep: string }[];
  /** DNS: service name -> VIP (or task addresses with dnsrr), tasks.<service> -> task addresses, task names */
  names: Record<string, string[]>;
  /** VIP load balancing: each vip-mode service's VIP on this network and its running tasks' addresses */
  vips: { name: string; vip: string; backends: string[] }[];
  /** ingress only: this node's own address on it, and the routing mesh's published ports */
  hostIp?: string;
  /** `preserveClientIp`: backends are this node's own tasks only, and the client address is kept (service-lb.ts) */
  mesh?: { name: string; proto: 'tcp' | 'udp' | 'sctp'; publishedPort: number; targetPort: number; backends: string[]; preserveClientIp?: boolean }[];
  /** `-o encrypted`: VXLAN runs inside the WireGuard tunnel; peers' VTEPs are their tunnel addresses */
  encrypted?: boolean;
  /** encrypted only: this node's tunnel address, its VTEP (none yet: the network is not carried) */
  localVtep?: string;
  /** the addresses of the nodes with an endpoint on it, this one too: Docker's `Peers` */
  members?: string[];
}

/**
 * A standalone container's way onto a swarm network: a network attachment asked of a manager (set
 * by the daemon wiring; it answers only while this node is in a swarm).
 */
export interface SwarmAttacher {
  inSwarm(): boolean;
  /** the swarm network `ref` names (ID, name, ID prefix), before anything is on it; undefined: none */
  find(ref: string): Promise<SwarmNetworkView | undefined>;
  /** an address on the network for the container and the network as this node now sees it (`localAddr`: its VTEP) */
  attach(req: { network: string; containerId: string; name: string; aliases: string[]; address?: string }): Promise<{ address: string; network: SwarmNetworkView; localAddr: string }>;
  detach(networkId: string, containerId: string): Promise<void>;
}

// Networks on one host: the predefined `bridge`, `host` and `none`, user-defined bridge and
// macvlan networks; the endpoints containers have on them (an address, an interface in the
// container's namespace), published ports, the nftables ruleset and the embedded DNS.
// Network records persist under <data-root>/network; endpoints live in the container records.

export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  /** swarm: a node's copy of a swarm network */
  Scope: 'local' | 'swarm';
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway?: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  shoal: { ifname?: string; createdParent?: string };
}

export interface NetworkManagerOptions {
  dataRoot: string;
  log: Logger;
  events: EventBus;
  /** --bip: the default bridge's gateway address and prefix */
  bip?: string;
  pools?: AddressPool[];
  /** upstream resolvers of the embedded DNS (daemon --dns); else the daemon's /etc/resolv.conf */
  dns?: string[];
  mtu?: number;
  /** the WireGuard interface under encrypted overlays */
  tunnel?: WireguardTunnel;
}

export const DEFAULT_BRIDGE_IF = 'shoal0';
/** Docker's bridge through which containers only on overlays reach the outside (made on swarm init/join) */
export const GATEWAY_BRIDGE = 'docker_gwbridge';
const BRIDGE_NAME_OPT = 'com.docker.network.bridge.name';
const ICC_OPT = 'com.docker.network.bridge.enable_icc';
const PREDEFINED = ['bridge', 'host', 'none'];

export class NetworkManager {
  private nets = new Map<string, NetworkRecord>();
  private lastIp = new Map<string, number>();
  readonly ports = new PortAllocator();
  readonly dns: EmbeddedDns;
  /** Set by the daemon wiring: every container record. */
  containers: () => ContainerRecord[] = () => [];
  /** Set by the daemon wiring: attachments of standalone containers to swarm networks. */
  swarm?: SwarmAttacher;
  private dir: string;
  private mtu: number;
  private fwQueue: Promise<void> = Promise.resolve();

  constructor(private o: NetworkManagerOptions) {
    this.dir = path.join(o.dataRoot, 'network');
    this.mtu = o.mtu ?? 1500;
    this.dns = new EmbeddedDns({ lookup: (ip, name) => this.lookup(ip, name), upstreams: (ip) => this.upstreams(ip) }, o.log);
  }

  // ---------- startup ----------

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    for (const f of await fs.readdir(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const n = JSON.parse(await fs.readFile(path.join(this.dir, f), 'utf8')) as NetworkRecord;
        this.nets.set(n.Id, n);
      } catch (err) { this.o.log.warn({ file: f, err: (err as Error).message }, 'skipping unreadable network record'); }
    }
    if (!this.byName('none')) await this.save(this.record('none', 'null', {}));
    if (!this.byName('host')) await this.save(this.record('host', 'host', {}));
    const bridge = this.byName('bridge');
    const wanted = this.defaultBridgeIpam();
    if (!bridge || (this.o.bip && bridge.IPAM.Config[0]?.Gateway !== wanted.Gateway)) {
      const rec = this.record('bridge', 'bridge', {
        'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        [BRIDGE_NAME_OPT]: DEFAULT_BRIDGE_IF, 'com.docker.network.driver.mtu': String(this.mtu),
      });
      if (bridge) rec.Id = bridge.Id;
      rec.IPAM = { Driver: 'default', Options: null, Config: [wanted] };
      rec.shoal.ifname = DEFAULT_BRIDGE_IF;
      await this.save(rec);
    }
    await sysctl('net.ipv4.ip_forward', '1');
    for (const n of this.nets.values()) await this.bringUp(n).catch((err) => this.o.log.error({ network: n.Name, err: (err as Error).message }, 'cannot bring up network'));
  }

  /** After the container manager loaded its records: hold the ports of running containers, load the rules. */
  async restore(): Promise<void> {
    for (const c of this.containers()) {
      if (!c.State.Running) continue;
      for (const [key, list] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
        const proto = key.split('/')[1] as 'tcp' | 'udp';
        for (const b of (list as { HostIp: string; HostPort: string }[] | null) ?? []) await this.ports.reclaim(proto, b.HostIp, Number(b.HostPort));
      }
    }
    await this.syncFirewall();
  }

  shutdown(): void { this.dns.closeAll(); }

  private defaultBridgeIpam(): { Subnet: string; Gateway: string } {
    if (this.o.bip) {
      const c = parseCidr(this.o.bip);
      return { Subnet: formatCidr(c), Gateway: this.o.bip.split('/')[0] };
    }
    const used = [...this.nets.values()].filter((n) => n.Name !== 'bridge').flatMap((n) => n.IPAM.Config.map((x) => parseCidr(x.Subnet)));
    const s = pickSubnet(this.o.pools ?? DEFAULT_POOLS, used);
    return { Subnet: formatCidr(s), Gateway: intToIp(firstHost(s)) };
  }

  private record(name: string, driver: string, options: Record<string, string>): NetworkRecord {
    return {
      Name: name, Id: newId(), Created: new Date().toISOString(), Scope: 'local', Driver: driver, EnableIPv6: false,
      IPAM: { Driver: 'default', Options: null, Config: [] }, Internal: false, Attachable: false, Ingress: false,
      ConfigFrom: { Network: '' }, ConfigOnly: false, Options: options, Labels: {}, shoal: {},
    };
  }

  private async save(n: NetworkRecord): Promise<void> {
    this.nets.set(n.Id, n);
    await writeFileAtomic(path.join(this.dir, `${n.Id}.json`), JSON.stringify(n));
  }

  private async bringUp(n: NetworkRecord): Promise<void> {
    if (n.Driver === 'bridge' && n.shoal.ifname) {
      const cfg = n.IPAM.Config[0];
      await ensureBridge(n.shoal.ifname, cfg?.Gateway ? `${cfg.Gateway}/${parseCidr(cfg.Subnet).prefix}` : undefined, Number(n.Options['com.docker.network.driver.mtu']) || this.mtu);
      // replies of a preserve-client-IP mesh port leave their task this way, from its ingress address
      if (n.Name === GATEWAY_BRIDGE) await sysctl(`net.ipv4.conf.${n.shoal.ifname}.rp_filter`, '2');
      if (this.hasDns(n) && cfg?.Gateway) await this.dns.listen(cfg.Gateway);
    } else if (n.Driver === 'macvlan' && n.Options.parent) {
      await ensureParent(n.Options.parent);
    }
  }

  /** Docker's embedded DNS serves user-defined networks, never the default bridge. */
  private hasDns(n: NetworkRecord): boolean { return n.Driver === 'bridge' && n.Name !== 'bridge'; }

  // ---------- lookup ----------

  private byName(name: string): NetworkRecord | undefined {
    for (const n of this.nets.values()) if (n.Name === name) return n;
    return undefined;
  }

  find(ref: string): NetworkRecord | undefined {
    if (!ref) return undefined;
    const exact = this.nets.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    const hits = [...this.nets.values()].filter((n) => n.Id.startsWith(ref));
    return hits.length === 1 ? hits[0] : undefined;
  }

  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw new NotFound(`network ${ref} not found`);
    return n;
  }

  /** The network a NetworkMode means, or undefined for host/none/container:X. */
  networkForMode(mode: string): NetworkRecord | undefined {
    if (mode === 'default' || mode === '') return this.byName('bridge');
    if (mode.startsWith('container:')) return undefined;
    return this.get(mode);
  }

  private attached(n: NetworkRecord): ContainerRecord[] {
    // An address is set from allocation (before the process runs) until release at exit.
    return this.containers().filter((c) => c.NetworkSettings?.Networks?.[n.Name]?.NetworkID === n.Id && c.NetworkSettings.Networks[n.Name].IPAddress);
  }

  inspect(ref: string): any {
    const n = this.get(ref);
    const containers: Record<string, unknown> = {};
    if (n.Driver !== 'null' && n.Driver !== 'host') {
      for (const c of this.attached(n)) {
        const ep = c.NetworkSettings.Networks[n.Name];
        containers[c.Id] = { Name: c.Name.slice(1), EndpointID: ep.EndpointID, MacAddress: ep.MacAddress, IPv4Address: `${ep.IPAddress}/${ep.IPPrefixLen}`, IPv6Address: '' };
      }
      // Docker names a gateway endpoint after the sandbox, which here is the container's
      for (const c of this.gatewayUsers(n)) {
        const g = c.shoal.gateway!;
        containers[c.Id] = { Name: `gateway_${c.Id.slice(0, 12)}`, EndpointID: g.endpointId, MacAddress: g.mac, IPv4Address: `${g.ip}/${g.prefix}`, IPv6Address: '' };
      }
    } else {
      for (const c of this.containers()) {
        const ep = c.State.Running ? c.NetworkSettings?.Networks?.[n.Name] : undefined;
        if (ep) containers[c.Id] = { Name: c.Name.slice(1), EndpointID: ep.EndpointID, MacAddress: '', IPv4Address: '', IPv6Address: '' };
      }
    }
    const { shoal: _private, ...pub } = n;
    // Docker lists the nodes of an overlay network it carries (a NetworkDB name of 12 hex, the node's address)
    const members = n.Scope === 'swarm' ? this.swarmViews.find((v) => v.id === n.Id)?.members : undefined;
    const peers = members ? { Peers: members.map((ip) => ({ Name: createHash('sha256').update(ip).digest('hex').slice(0, 12), IP: ip })) } : {};
    return { ...pub, Containers: containers, ...peers };
  }

  list(filtersRaw: string | null, parse: (s: string | null) => Filters): any[] {
    const f = parse(filtersRaw);
    f.validate(['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    return [...this.nets.values()].filter((n) => {
      if (f.contains('driver') && !f.get('driver').includes(n.Driver)) return false;
      if (f.contains('name') && !f.get('name').some((v) => n.Name.includes(v))) return false;
      if (f.contains('id') && !f.get('id').some((v) => n.Id.startsWith(v))) return false;
      if (f.contains('scope') && !f.get('scope').includes(n.Scope)) return false;
      if (!f.matchKVList('label', n.Labels)) return false;
      if (f.contains('type')) {
        const t = PREDEFINED.includes(n.Name) ? 'builtin' : 'custom';
        if (!f.get('type').includes(t)) return false;
      }
      if (f.contains('dangling')) {
        const want = ['true', '1'].includes(f.get('dangling')[0]);
        const dangling = !PREDEFINED.includes(n.Name) && !this.usedBy(n).length && !this.gatewayUsers(n).length;
        if (want !== dangling) return false;
      }
      return true;
    }).sort((a, b) => a.Created.localeCompare(b.Created)).map((n) => this.inspect(n.Id));
  }

  /** Containers (any state) configured with this network. */
  private usedBy(n: NetworkRecord): ContainerRecord[] {
    return this.containers().filter((c) => c.NetworkSettings?.Networks?.[n.Name]?.NetworkID === n.Id || c.HostConfig?.NetworkMode === n.Name || c.HostConfig?.NetworkMode === n.Id);
  }

  /** Containers with their hidden way out on this network (docker_gwbridge). */
  private gatewayUsers(n: NetworkRecord): ContainerRecord[] {
    return this.containers().filter((c) => c.shoal?.gateway?.networkId === n.Id);
  }

  /** Addresses taken on a bridge network, by endpoints and gateway endpoints of containers other than `except`. */
  private usedAddresses(n: NetworkRecord, except: string): Set<number> {
    const used = new Set<number>();
    const gw = n.IPAM.Config[0]?.Gateway;
    if (gw) used.add(ipToInt(gw));
    for (const o of this.attached(n)) if (o.Id !== except) used.add(ipToInt(o.NetworkSettings.Networks[n.Name].IPAddress));
    for (const o of this.gatewayUsers(n)) if (o.Id !== except) used.add(ipToInt(o.shoal.gateway!.ip));
    return used;
  }

  // ---------- docker_gwbridge ----------

  private gatewayBridgeMaking?: Promise<NetworkRecord>;

  /**
   * docker_gwbridge, made when missing: on swarm init/join (and a daemon restart in a swarm), or by
   * the first container that needs it. One made by the user beforehand (own subnet) is used as it is.
   */
  ensureGatewayBridge(): Promise<NetworkRecord> {
    const have = this.byName(GATEWAY_BRIDGE);
    if (have) return Promise.resolve(have);
    return (this.gatewayBridgeMaking ??= (async () => {
      // Docker's options; the subnet is the next free one of the pools (172.18.0.0/16 next to the default bridge)
      const { Id } = await this.create({
        Name: GATEWAY_BRIDGE, Driver: 'bridge',
        Options: { [ICC_OPT]: 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true', [BRIDGE_NAME_OPT]: GATEWAY_BRIDGE },
      });
      const rec = this.nets.get(Id)!;
      rec.IPAM.Options = null;
      await this.save(rec);
      return rec;
    })().finally(() => { this.gatewayBridgeMaking = undefined; }));
  }

  // ---------- create / remove ----------

  async create(body: any): Promise<{ Id: string; Warning: string }> {
    if (!body || typeof body.Name !== 'string' || !body.Name) throw new BadRequest('network name must be specified');
    const name: string = body.Name;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new BadRequest(`invalid network name "${name}"`);
    if (this.byName(name)) throw new Conflict(`network with name ${name} already exists`);
    const driver = body.Driver || 'bridge';
    if (PREDEFINED.includes(name)) throw new Forbidden(`${name} is a pre-defined network and cannot be created`);
    if (driver === 'host' || driver === 'null') throw new Forbidden(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge' && driver !== 'macvlan') throw new NotFound(`plugin "${driver}" not found`);
    const options: Record<string, string> = { ...(body.Options ?? {}) };
    const rec = this.record(name, driver, options);
    rec.Internal = !!body.Internal;
    rec.Attachable = !!body.Attachable;
    rec.Labels = body.Labels ?? {};
    rec.IPAM = { Driver: body.IPAM?.Driver || 'default', Options: body.IPAM?.Options ?? {}, Config: [] };
    const used = [...this.nets.values()].flatMap((n) => n.IPAM.Config.map((x) => parseCidr(x.Subnet)));
    const cfgs: any[] = body.IPAM?.Config ?? [];
    if (cfgs.length > 1) throw new BadRequest('shoal supports one IPv4 subnet per network');
    const want = cfgs[0] ?? {};
    let subnet: Cidr;
    try {
      if (want.Subnet) {
        subnet = parseCidr(want.Subnet);
        if (subnet.prefix > 30) throw new Error(`invalid subnet ${want.Subnet}: too small`);
        if (driver === 'bridge' && used.some((u) => overlaps(u, subnet))) throw new Forbidden('Pool overlaps with other one on this address space');
      } else {
        subnet = pickSubnet(this.o.pools ?? DEFAULT_POOLS, used);
      }
      const gateway = want.Gateway ?? intToIp(firstHost(subnet));
      if (!contains(subnet, ipToInt(gateway))) throw new Error(`no matching subnet for gateway ${gateway}`);
      const cfg: NetworkRecord['IPAM']['Config'][0] = { Subnet: formatCidr(subnet), Gateway: gateway };
      if (want.IPRange) {
        const r = parseCidr(want.IPRange);
        if (!contains(subnet, r.base) || r.prefix < subnet.prefix) throw new Error(`invalid ip-range ${want.IPRange}: not in subnet ${cfg.Subnet}`);
        cfg.IPRange = formatCidr(r);
      }
      rec.IPAM.Config = [cfg];
    } catch (e) {
      if (e instanceof Forbidden) throw e;
      throw new BadRequest((e as Error).message);
    }
    if (driver === 'bridge') {
      const ifname = options[BRIDGE_NAME_OPT] || `br-${rec.Id.slice(0, 12)}`;
      if (ifname.length > 15) throw new BadRequest(`bridge name ${ifname} is too long (15 characters at most)`);
      if ([...this.nets.values()].some((n) => n.shoal.ifname === ifname)) throw new Conflict(`bridge ${ifname} is already used by another network`);
      rec.shoal.ifname = ifname;
    } else {
      const parent = options.parent;
      if (!parent) throw new BadRequest('macvlan networks need -o parent=INTERFACE (no dummy parent support)');
      try { rec.shoal.createdParent = (await ensureParent(parent)) ? parent : undefined; } catch (e) { throw new BadRequest((e as Error).message); }
    }
    try {
      await this.bringUp(rec);
    } catch (e) {
      if (rec.shoal.ifname) await deleteLink(rec.shoal.ifname);
      throw e;
    }
    await this.save(rec);
    await this.syncFirewall();
    this.o.events.emit('network', 'create', rec.Id, { name: rec.Name, type: rec.Driver });
    return { Id: rec.Id, Warning: '' };
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    if (PREDEFINED.includes(n.Name)) throw new Forbidden(`${n.Name} is a pre-defined network and cannot be removed`);
    if (this.attached(n).length || this.gatewayUsers(n).length) throw new Forbidden(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints`);
    await this.destroy(n);
  }

  private async destroy(n: NetworkRecord): Promise<void> {
    if (n.IPAM.Config[0]?.Gateway && this.hasDns(n)) this.dns.close(n.IPAM.Config[0].Gateway);
    if (n.Driver === 'bridge' && n.shoal.ifname) await deleteLink(n.shoal.ifname);
    if (n.shoal.createdParent) await deleteLink(n.shoal.createdParent);
    this.nets.delete(n.Id);
    await fs.rm(path.join(this.dir, `${n.Id}.json`), { force: true });
    await this.syncFirewall();
    this.o.events.emit('network', 'destroy', n.Id, { name: n.Name, type: n.Driver });
  }

  async prune(filtersRaw: string | null, parse: (s: string | null) => Filters): Promise<{ NetworksDeleted: string[] }> {
    const f = parse(filtersRaw);
    f.validate(['label', 'label!', 'until']);
    const deleted: string[] = [];
    for (const n of [...this.nets.values()]) {
      if (PREDEFINED.includes(n.Name) || this.usedBy(n).length || this.attached(n).length || this.gatewayUsers(n).length) continue;
      if (!f.matchKVList('label', n.Labels)) continue;
      if (f.contains('label!') && f.get('label!').some((l) => { const [k, v] = l.split('='); return k in n.Labels && (v === undefined || n.Labels[k] === v); })) continue;
      if (f.contains('until')) {
        const u = f.get('until')[0];
        const t = /^\d+(\.\d+)?$/.test(u) ? Number(u) * 1000 : Date.parse(u);
        if (!Number.isNaN(t) && Date.parse(n.Created) >= t) continue;
      }
      await this.destroy(n);
      deleted.push(n.Name);
    }
    return { NetworksDeleted: deleted };
  }

  // ---------- endpoints ----------

  /** NetworkSettings of a new container; validates the networks it names (`remote`: swarm networks not carried here). */
  settingsForCreate(hostConfig: any, networkingConfig: any, containerId: string, remote = new Map<string, NetworkRecord>()): any {
    const mode: string = hostConfig.NetworkMode || 'default';
    validatePortBindingsOr400(hostConfig.PortBindings);
    const settings: any = {
      Bridge: '', SandboxID: '', HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, Ports: {},
      SandboxKey: '', SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: '', Gateway: '',
      GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: {},
    };
    if (mode.startsWith('container:')) return settings;
    const eps: Record<string, any> = networkingConfig?.EndpointsConfig ?? {};
    const byKey = (k: string) => remote.get(k) ?? this.networkForMode(k) ?? this.get(k);
    // like Docker: mode "default" with endpoints given (a task's networks) means those networks only
    const first = Object.keys(eps)[0];
    const primary = (mode === 'default' || mode === '') && first !== undefined ? byKey(first) : remote.get(mode) ?? this.networkForMode(mode)!;
    const order = [primary, ...Object.keys(eps).map(byKey).filter((n) => n.Id !== primary.Id)];
    // a container only on overlays goes out through docker_gwbridge, hidden from its networks (attachAll)
    if ((primary.Driver === 'host' || primary.Driver === 'null') && order.length > 1) {
      throw new BadRequest(`container cannot be disconnected from host network or connected to host network`);
    }
    for (const n of order) {
      const cfg = eps[n.Name] ?? eps[n.Id] ?? Object.entries(eps).find(([k]) => byKey(k)?.Id === n.Id)?.[1] ?? {};
      settings.Networks[n.Name] = this.endpointSettings(n, cfg, containerId, hostConfig);
    }
    return settings;
  }

  private endpointSettings(n: NetworkRecord, cfg: any, containerId: string, hostConfig: any): any {
    const ipam = cfg.IPAMConfig ?? null;
    if (ipam?.IPv4Address) {
      if (n.Name === 'bridge' || !n.IPAM.Config.length || n.Driver === 'host' || n.Driver === 'null') {
        throw new BadRequest('user specified IP address is supported on user defined networks only');
      }
      if (!contains(parseCidr(n.IPAM.Config[0].Subnet), ipToInt(ipam.IPv4Address))) {
        throw new BadRequest(`Invalid address ${ipam.IPv4Address}: It does not belong to any of this network's subnets`);
      }
    }
    const userDefined = this.hasDns(n) || n.Driver === 'macvlan' || n.Driver === 'overlay';
    const aliases: string[] | null = userDefined ? [...new Set([containerId.slice(0, 12), ...(cfg.Aliases ?? [])])] : (cfg.Aliases?.length ? cfg.Aliases : null);
    if (!userDefined && cfg.Aliases?.length) throw new BadRequest('network-scoped alias is supported only for containers in user defined networks');
    const links = n.Name === 'bridge' ? null : (cfg.Links?.length ? cfg.Links : hostConfig.Links?.length ? hostConfig.Links : null);
    return {
      IPAMConfig: ipam, Links: links, Aliases: aliases, NetworkID: n.Id, EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0,
      IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: '', DriverOpts: cfg.DriverOpts ?? null,
    };
  }

  /** At start: an interface on every network of the container, then its published ports. */
  async attachAll(c: ContainerRecord, netns: string): Promise<void> {
    // a standalone container's swarm networks first: the manager gives the addresses, and the networks come with them
    const given = new Map<string, string>();
    for (const [name, ep] of Object.entries<any>(c.NetworkSettings.Networks ?? {})) if (this.needsAttachment(c, name, ep)) given.set(...await this.attachSwarm(c, name, ep));
    const names = Object.keys(c.NetworkSettings.Networks ?? {});
    let gatewaySet = false;
    for (const name of names) {
      const n = this.nets.get(c.NetworkSettings.Networks[name].NetworkID) ?? this.byName(name);
      if (!n) throw new NotFound(`network ${name} not found`);
      if (n.Driver === 'host' || n.Driver === 'null') continue;
      // overlays have no gateway on any host: the way out is another network (or docker_gwbridge)
      const wantGw = !gatewaySet && !n.Internal && n.Driver !== 'overlay';
      await this.attachOne(c, n, netns, wantGw, given.get(n.Id));
      if (wantGw) gatewaySet = true;
    }
    if (this.needsGateway(c)) await this.attachGateway(c, netns);
    await this.publish(c);
  }

  /** A network that gives its containers a default route. */
  private givesGateway(n: NetworkRecord): boolean {
    return !n.Internal && (n.Driver === 'bridge' || n.Driver === 'macvlan') && !!n.IPAM.Config[0]?.Gateway;
  }

  /**
   * Docker's rule (libnetwork's needDefaultGW): a container on a non-internal overlay and on no
   * network that gives it a gateway goes out (and reaches the embedded DNS) through docker_gwbridge.
   */
  private needsGateway(c: ContainerRecord): boolean {
    let need = false;
    for (const ep of Object.values<any>(c.NetworkSettings?.Networks ?? {})) {
      const n = this.nets.get(ep.NetworkID);
      if (!n || n.Internal) continue;
      if (this.givesGateway(n)) return false;
      if (n.Driver === 'overlay') need = true;
    }
    return need;
  }

  /** The next free `ethN` in the container's namespace. */
  private nextIfname(c: ContainerRecord): string {
    const taken = Object.values(c.shoal.endpoints ?? {}).map((e) => Number(e.ifname.slice(3)));
    return `eth${taken.length ? Math.max(...taken) + 1 : 0}`;
  }

  /**
   * The container's hidden endpoint on docker_gwbridge: default route, masqueraded way out, and the
   * embedded DNS on its gateway. Not in NetworkSettings.Networks (Docker does not show it there);
   * `network inspect docker_gwbridge` lists it as gateway_<id>.
   */
  private async attachGateway(c: ContainerRecord, netns: string): Promise<void> {
    const n = await this.ensureGatewayBridge();
    const cfg = n.IPAM.Config[0];
    const subnet = parseCidr(cfg.Subnet);
    const ip = nextFree(subnet, cfg.IPRange ? parseCidr(cfg.IPRange) : subnet, this.usedAddresses(n, c.Id), this.lastIp.get(n.Id));
    this.lastIp.set(n.Id, ip);
    // claimed before any await, so concurrent starts cannot pick the same address
    const g = (c.shoal.gateway = { networkId: n.Id, endpointId: newId(), ip: intToIp(ip), prefix: subnet.prefix, mac: macFor(ip) });
    const endpoints = (c.shoal.endpoints ??= {});
    const ifname = this.nextIfname(c);
    const dns = !this.hasDnsRedirect(c) && !!cfg.Gateway;
    const hostIf = `veth${newId().slice(0, 7)}`;
    try {
      if (dns) await this.dns.listen(cfg.Gateway!);
      await addVeth(hostIf, n.shoal.ifname!, netns, {
        ifname, mac: g.mac, cidr: `${g.ip}/${g.prefix}`, gateway: cfg.Gateway, mtu: Number(n.Options['com.docker.network.driver.mtu']) || this.mtu,
        dnsTo: dns ? cfg.Gateway : undefined,
      }, n.Options[ICC_OPT] === 'false');
    } catch (e) {
      c.shoal.gateway = undefined;
      await deleteLink(hostIf);
      throw e;
    }
    endpoints[n.Id] = { ifname, hostIf, dns };
  }

  /** A running container that no longer needs its gateway endpoint (it joined a network with a gateway, or left its overlays). */
  private async detachGateway(c: ContainerRecord): Promise<void> {
    const g = c.shoal.gateway;
    if (!g) return;
    const e = c.shoal.endpoints?.[g.networkId];
    if (e && c.shoal.netnsPath) await deleteInside(c.shoal.netnsPath, e.ifname);
    delete c.shoal.endpoints?.[g.networkId];
    c.shoal.gateway = undefined;
  }

  /** `address`: given by the swarm (an attachment), not picked here. */
  private async attachOne(c: ContainerRecord, n: NetworkRecord, netns: string, defaultRoute: boolean, address?: string): Promise<void> {
    const ep = c.NetworkSettings.Networks[n.Name];
    const cfg = n.IPAM.Config[0];
    const subnet = parseCidr(cfg.Subnet);
    const used = this.usedAddresses(n, c.Id);
    let ip: number;
    const fixed = address ?? ep.IPAMConfig?.IPv4Address;
    if (fixed) {
      ip = ipToInt(fixed);
      if (used.has(ip)) throw new Forbidden(`Address already in use`);
    } else {
      ip = nextFree(subnet, cfg.IPRange ? parseCidr(cfg.IPRange) : subnet, used, this.lastIp.get(n.Id));
      this.lastIp.set(n.Id, ip);
    }
    // Claimed before any await, so concurrent starts cannot pick the same address.
    ep.IPAddress = intToIp(ip);
    const endpoints = (c.shoal.endpoints ??= {});
    const ifname = this.nextIfname(c);
    const mac = macFor(ip);
    // a container on an overlay asks the embedded DNS on its default bridge's gateway (overlays have none)
    const dnsIp = this.hasDns(n) ? cfg.Gateway : n.Name === 'bridge' && this.onOverlay(c) ? cfg.Gateway : undefined;
    if (dnsIp && !this.hasDns(n)) await this.dns.listen(dnsIp);
    const iface = { ifname, mac, cidr: `${intToIp(ip)}/${subnet.prefix}`, gateway: defaultRoute && cfg.Gateway ? cfg.Gateway : undefined, mtu: Number(n.Options['com.docker.network.driver.mtu']) || (n.Driver === 'overlay' ? (isEncrypted(n.Options) ? ENCRYPTED_OVERLAY_MTU : DEFAULT_OVERLAY_MTU) : this.mtu), dnsTo: dnsIp && !this.hasDnsRedirect(c) ? dnsIp : undefined };
    const hostIf = `veth${newId().slice(0, 7)}`;
    try {
      if (n.Driver === 'macvlan') await addMacvlan(hostIf, n.Options.parent, netns, iface);
      else await addVeth(hostIf, n.shoal.ifname!, netns, iface, n.Options[ICC_OPT] === 'false');
    } catch (e) {
      ep.IPAddress = '';
      await deleteLink(hostIf);
      throw e;
    }
    endpoints[n.Id] = { ifname, hostIf: n.Driver === 'bridge' || n.Driver === 'overlay' ? hostIf : undefined, dns: !!iface.dnsTo };
    Object.assign(ep, {
      NetworkID: n.Id, EndpointID: newId(), Gateway: n.Driver === 'macvlan' && !n.IPAM.Config[0].Gateway ? '' : cfg.Gateway ?? '',
      IPAddress: intToIp(ip), IPPrefixLen: subnet.prefix, MacAddress: mac,
    });
    if (n.Name === 'bridge') {
      Object.assign(c.NetworkSettings, { Bridge: '', EndpointID: ep.EndpointID, Gateway: ep.Gateway, IPAddress: ep.IPAddress, IPPrefixLen: ep.IPPrefixLen, MacAddress: mac });
    }
    this.o.events.emit('network', 'connect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
  }

  private hasDnsRedirect(c: ContainerRecord): boolean {
    return Object.values(c.shoal.endpoints ?? {}).some((e) => e.dns);
  }

  /** The running container has an interface on a network giving it a default route. */
  private hasWayOut(c: ContainerRecord): boolean {
    return Object.keys(c.shoal.endpoints ?? {}).some((id) => { const n = this.nets.get(id); return !!n && this.givesGateway(n); });
  }

  /** Reserves host ports and records them in NetworkSettings.Ports (Docker's shape). */
  private async publish(c: ContainerRecord): Promise<void> {
    const ports: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
    for (const k of Object.keys(c.Config.ExposedPorts ?? {})) ports[k.includes('/') ? k : `${k}/tcp`] = null;
    const primary = this.primaryEndpoint(c);
    const wanted = requestedPorts(c.HostConfig.PortBindings, c.Config.ExposedPorts, !!c.HostConfig.PublishAllPorts);
    if (primary && wanted.length) {
      const taken: { proto: string; ip: string; port: number }[] = [];
      try {
        for (const w of wanted) {
          const hostPort = await this.ports.allocate(w.proto, w.hostIp, w.range);
          taken.push({ proto: w.proto, ip: w.hostIp, port: hostPort });
          (ports[w.key] ??= []).push({ HostIp: w.hostIp, HostPort: String(hostPort) });
        }
      } catch (e) {
        for (const t of taken) this.ports.release(t.proto, t.ip, t.port);
        const ep = primary.ep;
        throw new ServerError(`driver failed programming external connectivity on endpoint ${c.Name.slice(1)} (${ep.EndpointID}): ${(e as Error).message}`);
      }
    } else {
      for (const w of wanted) ports[w.key] ??= null;
    }
    c.NetworkSettings.Ports = ports;
    // The ruleset only changes when ports are published: no nft run for the others.
    if (wanted.length) await this.syncFirewall();
  }

  /** The endpoint published ports lead to: the container's first bridge endpoint, else its docker_gwbridge one (a task's host-mode ports). */
  private primaryEndpoint(c: ContainerRecord): { n: NetworkRecord; ep: any } | undefined {
    for (const [name, ep] of Object.entries<any>(c.NetworkSettings?.Networks ?? {})) {
      const n = this.nets.get(ep.NetworkID);
      if (n && n.Driver === 'bridge' && ep.IPAddress && !n.Internal) return { n, ep };
      void name;
    }
    const g = c.shoal?.gateway;
    const gn = g && this.nets.get(g.networkId);
    return g && gn ? { n: gn, ep: { IPAddress: g.ip, EndpointID: g.endpointId } } : undefined;
  }

  /** At exit: addresses and ports go back; the namespace (and its interfaces) is removed by the caller. */
  async releaseAll(c: ContainerRecord): Promise<void> {
    await this.detachSwarm(c);
    const hadPorts = Object.values(c.NetworkSettings?.Ports ?? {}).some((l) => (l as unknown[] | null)?.length);
    for (const [key, list] of Object.entries(c.NetworkSettings?.Ports ?? {})) {
      const proto = key.split('/')[1];
      for (const b of (list as { HostIp: string; HostPort: string }[] | null) ?? []) this.ports.release(proto, b.HostIp, Number(b.HostPort));
    }
    if (c.NetworkSettings) {
      c.NetworkSettings.Ports = {};
      for (const ep of Object.values<any>(c.NetworkSettings.Networks ?? {})) Object.assign(ep, { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '' });
      Object.assign(c.NetworkSettings, { EndpointID: '', Gateway: '', IPAddress: '', IPPrefixLen: 0, MacAddress: '', SandboxKey: '', SandboxID: '' });
    }
    // Not awaited: the sandbox's removal right after takes the veth pair down with the namespace, and
    // `ip link del` of a veth waits ~20 ms for the kernel, which every container exit would pay.
    for (const e of Object.values(c.shoal.endpoints ?? {})) if (e.hostIf) void deleteLink(e.hostIf).catch(() => undefined);
    c.shoal.endpoints = {};
    c.shoal.gateway = undefined;
    if (hadPorts) await this.syncFirewall();
  }

  /** `network connect`: adds the endpoint; a running container gets its interface now. */
  async connect(c: ContainerRecord, ref: string, cfg: any): Promise<void> {
    const n = this.find(ref) ?? (await this.remoteSwarmNetwork(ref)) ?? this.get(ref);
    const mode: string = c.HostConfig.NetworkMode;
    if (mode === 'host' || mode === 'none' || mode.startsWith('container:') || n.Driver === 'host' || n.Driver === 'null') {
      throw new BadRequest(`container cannot be disconnected from host network or connected to host network`);
    }
    if (c.NetworkSettings.Networks[n.Name]) throw new Forbidden(`endpoint with name ${c.Name.slice(1)} already exists in network ${n.Name}`);
    c.NetworkSettings.Networks[n.Name] = this.endpointSettings(n, cfg ?? {}, c.Id, c.HostConfig);
    if (c.State.Running && c.shoal.netnsPath) {
      const ep = c.NetworkSettings.Networks[n.Name];
      try {
        let target = n;
        let address: string | undefined;
        if (this.needsAttachment(c, n.Name, ep)) {
          let id: string;
          [id, address] = await this.attachSwarm(c, n.Name, ep);
          target = this.get(id);
        }
        // a network with a gateway replaces docker_gwbridge as the way out, as in Docker
        if (this.givesGateway(target)) await this.detachGateway(c);
        await this.attachOne(c, target, c.shoal.netnsPath, this.givesGateway(target) && !this.hasWayOut(c), address);
        if (target.Driver === 'overlay') {
          if (!c.shoal.gateway && this.needsGateway(c)) await this.attachGateway(c, c.shoal.netnsPath);
          await this.redirectDnsForOverlay(c);
        }
      } catch (e) {
        await this.detachSwarm(c, ep.NetworkID);
        delete c.NetworkSettings.Networks[n.Name];
        if (!c.shoal.gateway && this.needsGateway(c)) await this.attachGateway(c, c.shoal.netnsPath).catch(() => undefined);
        throw e;
      }
    }
  }

  async disconnect(c: ContainerRecord, ref: string, force: boolean): Promise<void> {
    const n = this.find(ref);
    if (!n) {
      // a stopped container's endpoint on a swarm network this node does not carry (any more)
      const key = Object.keys(c.NetworkSettings.Networks ?? {}).find((k) => !this.nets.has(c.NetworkSettings.Networks[k].NetworkID) && (k === ref || c.NetworkSettings.Networks[k].NetworkID?.startsWith(ref)));
      if (key) { await this.detachSwarm(c, c.NetworkSettings.Networks[key].NetworkID); delete c.NetworkSettings.Networks[key]; return; }
      if (force) return;
      throw new NotFound(`network ${ref} not found`);
    }
    const ep = c.NetworkSettings.Networks[n.Name];
    if (!ep) throw new Forbidden(`container ${c.Id} is not connected to network ${n.Name}`);
    if (n.Driver === 'host' || n.Driver === 'null') throw new BadRequest(`container cannot be disconnected from host network or connected to host network`);
    const e = c.shoal.endpoints?.[n.Id];
    if (c.State.Running && e && c.shoal.netnsPath) {
      await deleteInside(c.shoal.netnsPath, e.ifname);
      delete c.shoal.endpoints![n.Id];
    }
    await this.detachSwarm(c, n.Id);
    delete c.NetworkSettings.Networks[n.Name];
    // the way out follows: docker_gwbridge again when only overlays are left, gone with the last overlay
    if (c.State.Running && c.shoal.netnsPath) {
      if (c.shoal.gateway && !this.needsGateway(c)) await this.detachGateway(c);
      else if (!c.shoal.gateway && this.needsGateway(c)) await this.attachGateway(c, c.shoal.netnsPath);
    }
    this.o.events.emit('network', 'disconnect', n.Id, { container: c.Id, name: n.Name, type: n.Driver });
    await this.syncFirewall();
  }

  // ---------- /etc files ----------

  /** /etc/hosts lines for the container's own addresses and its legacy links. */
  hostsLines(c: ContainerRecord): string[] {
    const out: string[] = [];
    const hostname = c.Config.Hostname + (c.Config.Domainname ? `.${c.Config.Domainname}` : '');
    for (const ep of Object.values<any>(c.NetworkSettings?.Networks ?? {})) if (ep.IPAddress) out.push(`${ep.IPAddress}\t${hostname}`);
    if (this.onDefaultBridge(c)) {
      for (const l of c.HostConfig.Links ?? []) {
        const [target, alias] = parseLink(l);
        const other = this.containers().find((o) => o.Name === target || o.Name === `/${target}` || o.Id.startsWith(target));
        const ip = other?.NetworkSettings?.Networks?.bridge?.IPAddress;
        if (ip) out.push(`${ip}\t${alias} ${other!.Id.slice(0, 12)} ${other!.Name.slice(1)}`);
      }
    }
    return out;
  }

  private onDefaultBridge(c: ContainerRecord): boolean { return !!c.NetworkSettings?.Networks?.bridge; }

  /** resolv.conf: the embedded DNS on user-defined networks, else the host's minus loopback servers. */
  resolvConf(c: ContainerRecord, hostResolv: string): string {
    const hc = c.HostConfig;
    const lines = hostResolv.split('\n').map((l) => l.trim()).filter(Boolean);
    let search = lines.filter((l) => l.startsWith('search') || l.startsWith('domain')).slice(-1).map((l) => l.replace(/^domain/, 'search'));
    let options = lines.filter((l) => l.startsWith('options'));
    let servers = lines.filter((l) => l.startsWith('nameserver')).map((l) => l.split(/\s+/)[1]);
    if (hc.DnsSearch?.length) search = [`search ${hc.DnsSearch.join(' ')}`];
    if (hc.DnsOptions?.length) options = [`options ${hc.DnsOptions.join(' ')}`];
    if (this.hasDnsRedirect(c)) {
      servers = ['127.0.0.11'];
      if (!hc.DnsOptions?.length) options = ['options ndots:0'];
    } else if (hc.Dns?.length) {
      servers = hc.Dns;
    } else {
      servers = servers.filter((s) => !s.startsWith('127.') && s !== '::1');
      if (!servers.length) servers = ['8.8.8.8', '8.8.4.4'];
    }
    return [...search, ...servers.map((s) => `nameserver ${s}`), ...options].join('\n') + '\n';
  }

  // ---------- swarm overlays ----------

  private swarmNames = new Map<string, Record<string, string[]>>();
  private overlayApplied = new Map<string, string>();
  private vipApplied = new Map<string, string>();
  private meshApplied = '';
  private swarmViews: SwarmNetworkView[] = [];
  private overlayQueue: Promise<unknown> = Promise.resolve();

  private onOverlay(c: ContainerRecord): boolean {
    return Object.values<any>(c.NetworkSettings?.Networks ?? {}).some((e) => this.nets.get(e.NetworkID)?.Driver === 'overlay');
  }

  /**
   * The swarm agent's view of the overlay networks this node's tasks use: a local record of each
   * (created on first use, like Docker's lazy network extension), the VXLAN data plane converged to
   * the peers, the names the embedded DNS answers, and the VIP tables of the containers on them.
   * Overlays no task needs any more go away once no container is attached.
   */
  syncSwarmNetworks(want: SwarmNetworkView[] | ((current: SwarmNetworkView[]) => SwarmNetworkView[]), localAddr: string, tunnel?: TunnelConfig): Promise<void> {
    const next = this.overlayQueue.then(async () => {
      const views = typeof want === 'function' ? want(this.swarmViews) : want;
      // the WireGuard tunnel first: encrypted overlays run their VXLAN inside it, and only when it is up
      let tunnelUp = false;
      if (tunnel && this.o.tunnel) {
        try { await this.o.tunnel.apply(tunnel); tunnelUp = true; } catch (err) { this.o.log.error({ err: (err as Error).message }, 'WireGuard tunnel not up: encrypted overlays are not carried'); }
      }
      for (const v of views) {
        const links = overlayLinkNames(v.id);
        if (!this.nets.has(v.id)) await this.save(this.swarmRecord(v));
        const peers = v.peers.map((p) => ({ ip: p.ip, mac: macFor(ipToInt(p.ip)), vtep: p.vtep }));
        // an encrypted overlay never falls back to clear VXLAN: without its tunnel it is not carried
        const vtep = !v.encrypted ? localAddr : tunnelUp && v.localVtep === tunnel?.address ? v.localVtep : undefined;
        const mtu = v.encrypted ? ENCRYPTED_OVERLAY_MTU : undefined;
        const key = JSON.stringify([vtep, mtu, v.vni, v.hostIp, peers]);
        if (vtep && this.overlayApplied.get(v.id) !== key) {
          await applyOverlay({ id: v.id, vni: v.vni, subnet: v.subnet, ...links, localVtep: vtep, ...(mtu ? { mtu } : {}), ...(v.hostIp ? { hostIp: v.hostIp } : {}) }, peers);
          this.overlayApplied.set(v.id, key);
        }
        // the routing mesh: published ports of the swarm answer on this node, spread over every task
        if (v.hostIp && v.mesh) {
          const meshKey = JSON.stringify([v.hostIp, v.mesh]);
          if (this.meshApplied !== meshKey) {
            if (v.mesh.length) await applyIngress({ bridge: links.bridgeName, nodeIp: v.hostIp, ports: v.mesh });
            else await removeLbTable(INGRESS_TABLE);
            this.meshApplied = meshKey;
          }
        }
        this.swarmNames.set(v.id, v.names);
      }
      for (const n of [...this.nets.values()]) {
        if (n.Driver !== 'overlay' || views.some((v) => v.id === n.Id) || this.attached(n).length) continue;
        if (n.Ingress || n.Name === 'ingress') { await removeLbTable(INGRESS_TABLE).catch(() => undefined); this.meshApplied = ''; }
        await removeOverlay(overlayLinkNames(n.Id)).catch(() => undefined);
        this.nets.delete(n.Id);
        this.overlayApplied.delete(n.Id);
        this.swarmNames.delete(n.Id);
        await fs.rm(path.join(this.dir, `${n.Id}.json`), { force: true });
      }
      // no encrypted overlay left here: the tunnel goes (wireguard-go stopped by its pid)
      if (!tunnel && this.o.tunnel && ![...this.nets.values()].some((n) => n.Driver === 'overlay' && isEncrypted(n.Options))) {
        await this.o.tunnel.remove().catch((err) => this.o.log.warn({ err: (err as Error).message }, 'WireGuard tunnel removal failed'));
      }
      this.swarmViews = views;
      // containers on overlays and the default bridge ask the embedded DNS on its gateway (again after a
      // restart; docker_gwbridge's gateway listens as any user-defined bridge's does)
      const br = this.byName('bridge');
      const gw = br?.IPAM.Config[0]?.Gateway;
      if (gw && this.containers().some((c) => c.State.Running && this.onOverlay(c) && c.shoal.endpoints?.[br!.Id]?.dns)) await this.dns.listen(gw).catch(() => undefined);
      await this.syncVips();
    });
    this.overlayQueue = next.catch(() => undefined);
    return next;
  }

  /** The local record of a swarm network (a node's copy, made where something uses it). */
  private swarmRecord(v: SwarmNetworkView): NetworkRecord {
    const rec = this.record(v.name, 'overlay', { ...(v.encrypted ? { encrypted: '' } : {}), 'com.docker.network.driver.overlay.vxlanid_list': String(v.vni) });
    return Object.assign(rec, { Id: v.id, Scope: 'swarm' as const, Attachable: v.attachable, Internal: v.internal, Ingress: !!v.hostIp && !!v.mesh, IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: v.subnet, Gateway: v.gateway }] }, shoal: { ifname: overlayLinkNames(v.id).bridgeName } });
  }

  // ---------- standalone containers on swarm networks (attachments) ----------

  /** `<container id>/<network id>` of the attachments this engine was given and has not given back */
  private held = new Set<string>();

  private isTask(c: ContainerRecord): boolean { return !!c.Config?.Labels?.['com.docker.swarm.task.id']; }

  /** Tasks get their addresses with their assignment; other containers ask a manager for each swarm network. */
  private needsAttachment(c: ContainerRecord, name: string, ep: any): boolean {
    if (this.isTask(c)) return false;
    const n = this.nets.get(ep.NetworkID) ?? this.byName(name);
    return n ? n.Scope === 'swarm' : !!this.swarm?.inSwarm();
  }

  /** A swarm network this node does not carry, as a record not saved (a container names it before it is attached). */
  private async remoteSwarmNetwork(ref: string): Promise<NetworkRecord | undefined> {
    if (!ref || !this.swarm?.inSwarm()) return undefined;
    const v = await this.swarm.find(ref);
    return v && this.swarmRecord(v);
  }

  /** The swarm networks a new container names that this node does not carry (looked up on a manager). */
  async swarmNetworksFor(hostConfig: any, networkingConfig: any): Promise<Map<string, NetworkRecord>> {
    const out = new Map<string, NetworkRecord>();
    const mode = String(hostConfig?.NetworkMode || 'default');
    const refs = [...(mode === 'default' || mode.startsWith('container:') ? [] : [mode]), ...Object.keys(networkingConfig?.EndpointsConfig ?? {})];
    for (const ref of refs) {
      if (out.has(ref) || this.find(ref) || PREDEFINED.includes(ref)) continue;
      const rec = await this.remoteSwarmNetwork(ref);
      if (rec) out.set(ref, rec);
    }
    return out;
  }

  /**
   * Attaches the container to the swarm network `name`: the manager's address for it, and the
   * network made present here. Returns [network id, address].
   */
  private async attachSwarm(c: ContainerRecord, name: string, ep: any): Promise<[string, string]> {
    if (!this.swarm?.inSwarm()) throw new ServerError(`Could not attach to network ${name}: this node is not part of a swarm`);
    const r = await this.swarm.attach({ network: name, containerId: c.Id, name: c.Name.slice(1), aliases: ep.Aliases ?? [], address: ep.IPAMConfig?.IPv4Address || undefined });
    const id = r.network.id;
    this.held.add(`${c.Id}/${id}`);
    // the address is the container's from now on: a sync pass that predates the attachment keeps the network
    Object.assign(ep, { NetworkID: id, IPAddress: r.address });
    try {
      await this.syncSwarmNetworks((cur) => [...cur.filter((v) => v.id !== id), r.network], r.localAddr);
    } catch (e) {
      await this.detachSwarm(c, id);
      ep.IPAddress = '';
      throw e;
    }
    return [id, r.address];
  }

  /** An endpoint with an address on a swarm network: an attachment held, even when `held` forgot it (a daemon restart). */
  private onSwarmNetwork(ep: any): boolean {
    return !!ep.IPAddress && this.nets.get(ep.NetworkID)?.Scope === 'swarm';
  }

  /** After a rename: the swarm networks a standalone container is attached to learn its new name. */
  async renamed(c: ContainerRecord): Promise<void> {
    if (!this.swarm?.inSwarm() || this.isTask(c)) return;
    for (const ep of Object.values<any>(c.NetworkSettings?.Networks ?? {})) {
      if (!this.held.has(`${c.Id}/${ep.NetworkID}`) && !this.onSwarmNetwork(ep)) continue;
      await this.swarm.attach({ network: ep.NetworkID, containerId: c.Id, name: c.Name.slice(1), aliases: ep.Aliases ?? [] })
        .catch((err) => this.o.log.warn({ container: c.Id, network: ep.NetworkID, err: (err as Error).message }, 'attachment rename failed'));
    }
  }

  /** Gives the container's attachments (or the one on `networkId`) back; a manager that cannot be told hears it from the next report. */
  private async detachSwarm(c: ContainerRecord, networkId?: string): Promise<void> {
    if (!this.swarm || this.isTask(c)) return;
    for (const ep of Object.values<any>(c.NetworkSettings?.Networks ?? {})) {
      if (networkId && ep.NetworkID !== networkId) continue;
      const key = `${c.Id}/${ep.NetworkID}`;
      if (!this.held.delete(key) && !this.onSwarmNetwork(ep)) continue;
      await this.swarm.detach(ep.NetworkID, c.Id).catch((err) => this.o.log.warn({ container: c.Id, network: ep.NetworkID, err: (err as Error).message }, 'network detach failed'));
    }
  }

  /** What this node's standalone containers hold, for the manager to release the rest. */
  swarmAttachments(): { networkId: string; containerId: string }[] {
    const out = new Map<string, { networkId: string; containerId: string }>();
    for (const k of this.held) out.set(k, { containerId: k.split('/')[0], networkId: k.split('/')[1] });
    for (const c of this.containers()) {
      if (this.isTask(c)) continue;
      for (const ep of Object.values<any>(c.NetworkSettings?.Networks ?? {})) {
        if (this.onSwarmNetwork(ep)) out.set(`${c.Id}/${ep.NetworkID}`, { containerId: c.Id, networkId: ep.NetworkID });
      }
    }
    return [...out.values()];
  }

  /** A running container on the default bridge joining an overlay needs the embedded DNS: through that endpoint. */
  private async redirectDnsForOverlay(c: ContainerRecord): Promise<void> {
    const br = this.byName('bridge');
    const e = br && c.shoal.endpoints?.[br.Id];
    const gw = br?.IPAM.Config[0]?.Gateway;
    if (this.hasDnsRedirect(c) || !e || !gw || !c.shoal.netnsPath) return;
    await this.dns.listen(gw);
    await redirectDns(c.shoal.netnsPath, e.ifname, gw);
    e.dns = true;
  }

  /** Each running container on an overlay balances the VIPs of the services on its networks. */
  private async syncVips(): Promise<void> {
    for (const c of this.containers()) {
      if (!c.State.Running || !c.State.Pid || !this.onOverlay(c)) continue;
      const mine = new Set(Object.values<any>(c.NetworkSettings.Networks).map((e) => e.NetworkID));
      const vips = this.swarmViews.filter((v) => mine.has(v.id)).flatMap((v) => v.vips);
      const key = JSON.stringify(vips);
      if (this.vipApplied.get(c.Id) === key) continue;
      const netns = `/proc/${c.State.Pid}/ns/net`;
      try {
        if (vips.length) await applyVips(vips, { netns });
        else await removeLbTable(VIP_TABLE, { netns });
        this.vipApplied.set(c.Id, key);
      } catch (err) {
        this.o.log.warn({ container: c.Id, err: (err as Error).message }, 'VIP table update failed');
      }
    }
    for (const id of this.vipApplied.keys()) if (!this.containers().some((c) => c.Id === id && c.State.Running)) this.vipApplied.delete(id);
  }

  // ---------- embedded DNS ----------

  /** Not State.Running: a container's first query can arrive before its start is recorded. */
  private containerByIp(ip: string): ContainerRecord | undefined {
    return this.containers().find((c) => c.shoal?.gateway?.ip === ip || Object.values<any>(c.NetworkSettings?.Networks ?? {}).some((e) => e.IPAddress === ip));
  }

  private lookup(clientIp: string, qname: string): { addresses: string[] } | undefined {
    const me = this.containerByIp(clientIp);
    if (!me) return undefined;
    const name = qname.toLowerCase();
    const addresses: string[] = [];
    for (const [netName, myEp] of Object.entries<any>(me.NetworkSettings.Networks ?? {})) {
      const n = this.nets.get(myEp.NetworkID);
      if (!n || !this.hasDns(n) && n.Driver !== 'macvlan' && n.Driver !== 'overlay') continue;
      // the swarm's names on an overlay: services (VIP or tasks), tasks.<service>, task names
      if (n.Driver === 'overlay') addresses.push(...(this.swarmNames.get(n.Id)?.[name] ?? []));
      // --link aliases are private to the linking container
      for (const l of myEp.Links ?? []) {
        const [target, alias] = parseLink(l);
        if (alias.toLowerCase() !== name) continue;
        const other = this.attached(n).find((o) => o.Name === `/${target}` || o.Id.startsWith(target));
        if (other) addresses.push(other.NetworkSettings.Networks[netName].IPAddress);
      }
      for (const o of this.attached(n)) {
        const ep = o.NetworkSettings.Networks[netName];
        const names = [o.Name.slice(1), ...(ep.Aliases ?? [])].map((s: string) => s.toLowerCase());
        if (names.includes(name)) addresses.push(ep.IPAddress);
      }
    }
    return addresses.length ? { addresses: [...new Set(addresses)] } : undefined;
  }

  private upstreams(clientIp: string): string[] {
    const c = this.containerByIp(clientIp);
    if (c?.HostConfig?.Dns?.length) return c.HostConfig.Dns;
    if (this.o.dns?.length) return this.o.dns;
    return this.hostResolvers;
  }

  hostResolvers: string[] = [];

  async loadHostResolvers(): Promise<void> {
    const text = await fs.readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    this.hostResolvers = text.split('\n').filter((l) => l.trim().startsWith('nameserver')).map((l) => l.trim().split(/\s+/)[1]);
  }

  // ---------- firewall ----------

  /** Rebuilds the whole nftables table from the current state (serialised, last call wins). */
  syncFirewall(): Promise<void> {
    const next = this.fwQueue.then(async () => {
      const bridges: FwBridge[] = [];
      for (const n of this.nets.values()) {
        if (n.Driver !== 'bridge' || !n.shoal.ifname || !n.IPAM.Config[0]) continue;
        bridges.push({
          ifname: n.shoal.ifname, subnet: n.IPAM.Config[0].Subnet, gateway: n.IPAM.Config[0].Gateway ?? '', internal: n.Internal,
          masquerade: n.Options['com.docker.network.bridge.enable_ip_masquerade'] !== 'false', dns: this.hasDns(n), icc: n.Options[ICC_OPT] !== 'false',
        });
      }
      const ports: FwPort[] = [];
      // Not State.Running: a starting container publishes before it is marked running.
      for (const c of this.containers()) {
        const primary = this.primaryEndpoint(c);
        if (!primary) continue;
        for (const [key, list] of Object.entries(c.NetworkSettings.Ports ?? {})) {
          const [cport, proto] = key.split('/');
          for (const b of (list as { HostIp: string; HostPort: string }[] | null) ?? []) {
            ports.push({ proto: proto as FwPort['proto'], hostIp: b.HostIp, hostPort: Number(b.HostPort), containerIp: primary.ep.IPAddress, containerPort: Number(cport) });
          }
        }
      }
      await applyRuleset(buildRuleset(bridges, ports));
    });
    this.fwQueue = next.catch((err) => this.o.log.error({ err: (err as Error).message }, 'firewall update failed'));
    return next;
  }
}

function validatePortBindingsOr400(pb: any): void {
  try { validatePortBindings(pb); } catch (e) { throw new BadRequest((e as Error).message); }
}

/** "name:alias" (or "name") of --link. */
export function parseLink(l: string): [string, string] {
  const [target, alias] = String(l).split(':');
  return [target.replace(/^\//, ''), (alias ?? target).replace(/^.*\//, '')];
}
