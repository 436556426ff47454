import type { SwarmStore } from '../backend.js';
import { ensureIngress, listNetworks, readIpam, withIpam, type SwarmNetwork } from './networks.js';
import type { OverlayIpam } from './overlay-ipam.js';
import type { PlanService, PlanTask } from './planner.js';
import type { NodeObject } from './objects.js';
import type { SwarmNetworkView } from '../../engine/networks/network-manager.js';
import type { AttachmentObject } from './attachments.js';
import { isEncrypted } from '../../engine/networks/wireguard.js';

// The leader's network allocator, run with each reconcile pass (swarmkit's allocator): a service
// on overlay networks gets a VIP on each (endpoint mode vip), each new task an address on each of
// its service's networks before any node sees it, and the addresses of deleted tasks and services
// go back to the pool. One compare-and-swap of the IPAM state per pass that changes anything.

export interface NetworkAttachment { Network: { ID: string; Spec: { Name: string }; DriverState: { Name: 'overlay'; Options: Record<string, string> }; IPAMOptions: { Configs: { Subnet: string; Gateway: string }[] } }; Addresses: string[] }
export interface VirtualIP { NetworkID: string; Addr: string }

const prefixOf = (cidr: string) => cidr.split('/')[1];

export function serviceNetworks(spec: any): { Target: string; Aliases?: string[] }[] {
  return spec?.TaskTemplate?.Networks ?? spec?.Networks ?? [];
}

export interface PortConfig { Name?: string; Protocol: 'tcp' | 'udp' | 'sctp'; TargetPort: number; PublishedPort?: number; PublishMode?: 'ingress' | 'host' }

/**
 * A service label asking the routing mesh to keep the client's address (moby/moby#25526): each node
 * sends the service's published ports to its own tasks only, without SNAT; a node without one refuses.
 */
export const PRESERVE_CLIENT_IP_LABEL = 'com.shoal.ingress.preserve-client-ip';

export function preservesClientIp(spec: any): boolean {
  return spec?.Labels?.[PRESERVE_CLIENT_IP_LABEL] === 'true';
}

/** Ports a service publishes through the routing mesh. */
export function ingressPorts(spec: any): PortConfig[] {
  return (spec?.EndpointSpec?.Ports ?? []).filter((p: PortConfig) => (p.PublishMode ?? 'ingress') === 'ingress');
}

/** A service's networks plus the ingress network when it publishes through the mesh. */
function networksOf(spec: any, ingressId?: string): { Target: string; Aliases?: string[] }[] {
  const own = serviceNetworks(spec);
  return ingressId && ingressPorts(spec).length && !own.some((a) => a.Target === ingressId) ? [{ Target: ingressId }, ...own] : own;
}

const MESH_PORTS = [30000, 32767];

/** Endpoint.Ports: the spec's ports, a published port picked (30000-32767) where none was given. */
function publishedPorts(s: { ID: string; Spec: any; Endpoint?: any }, taken: Set<string>): PortConfig[] {
  const prev: PortConfig[] = s.Endpoint?.Ports ?? [];
  return (s.Spec.EndpointSpec?.Ports ?? []).map((p: PortConfig) => {
    const proto = p.Protocol ?? 'tcp';
    const mode = p.PublishMode ?? 'ingress';
    let published = p.PublishedPort ?? 0;
    if (!published && mode === 'ingress') {
      published = prev.find((x) => x.TargetPort === p.TargetPort && x.Protocol === proto)?.PublishedPort ?? 0;
      for (let port = MESH_PORTS[0]; !published && port <= MESH_PORTS[1]; port++) if (!taken.has(`${proto}/${port}`)) published = port;
    }
    if (published) taken.add(`${proto}/${published}`);
    return { ...(p.Name ? { Name: p.Name } : {}), Protocol: proto, TargetPort: p.TargetPort, PublishedPort: published, PublishMode: mode };
  });
}

export interface AllocationResult {
  /** new tasks with their NetworksAttachments filled in */
  tasks: Map<string, NetworkAttachment[]>;
  /** services whose VirtualIPs changed */
  vips: Map<string, VirtualIP[]>;
  /** services whose Endpoint.Ports changed */
  ports: Map<string, PortConfig[]>;
}

/**
 * Allocates for `created` tasks and every live service, releases what `removedTasks` and deleted
 * services held. `services` carry their current Endpoint.
 */
export async function allocate(store: SwarmStore, services: (PlanService & { Endpoint?: any })[], created: PlanTask[], removedTasks: string[], pools: { pool?: string[]; size?: number }, nodes: NodeObject[] = []): Promise<AllocationResult> {
  const out: AllocationResult = { tasks: new Map(), vips: new Map(), ports: new Map() };
  const all = await listNetworks(store);
  let ingress = all.find((n) => n.Ingress);
  if (!ingress && services.some((s) => ingressPorts(s.Spec).length)) { ingress = await ensureIngress(store, pools); all.push(ingress); }
  const nets = (s: { Spec: any }) => networksOf(s.Spec, ingress?.Id);
  // published ports: every service's Endpoint.Ports follows its spec
  const taken = new Set<string>();
  for (const s of services) for (const p of (s.Endpoint?.Ports ?? []) as PortConfig[]) if (p.PublishedPort) taken.add(`${p.Protocol}/${p.PublishedPort}`);
  for (const s of services) {
    const want = publishedPorts(s, taken);
    if (JSON.stringify(want) !== JSON.stringify(s.Endpoint?.Ports ?? [])) out.ports.set(s.ID, want);
  }
  const withNets = services.filter((s) => nets(s).length);
  const wantTasks = created.filter((t) => withNets.some((s) => s.ID === t.ServiceID));
  const wantVip = withNets.filter((s) => (s.Spec.EndpointSpec?.Mode ?? 'vip') === 'vip' && !sameVips(s));
  const dropVip = services.filter((s) => !nets(s).length && s.Endpoint?.VirtualIPs?.length);
  // every node has its own address on the ingress network (the mesh's SNAT source)
  const ipamNow = ingress ? await readIpam(store) : undefined;
  const wantNodes = ingress ? nodes.filter((n) => !ipamNow?.addressOf(ingress!.Id, `node:${n.ID}`)) : [];
  if (!wantTasks.length && !wantVip.length && !removedTasks.length && !dropVip.length && !wantNodes.length) return out;
  const networks = new Map(all.map((n) => [n.Id, n]));
  const svcById = new Map(services.map((s) => [s.ID, s]));
  await withIpam(store, pools, (ipam: OverlayIpam) => {
    out.tasks.clear(); out.vips.clear();
    for (const id of removedTasks) ipam.releaseOwner(`task:${id}`);
    for (const s of dropVip) ipam.releaseOwner(`vip:${s.ID}`);
    for (const s of dropVip) out.vips.set(s.ID, []);
    for (const n of wantNodes) ipam.allocateAddress(ingress!.Id, `node:${n.ID}`);
    for (const s of wantVip) {
      const vips: VirtualIP[] = [];
      for (const a of nets(s)) {
        const n = networks.get(a.Target);
        const alloc = n && ipam.network(n.Id);
        if (!n || !alloc) continue;
        vips.push({ NetworkID: n.Id, Addr: `${ipam.allocateAddress(n.Id, `vip:${s.ID}`)}/${prefixOf(alloc.subnet)}` });
      }
      out.vips.set(s.ID, vips);
    }
    for (const t of wantTasks) {
      const s = svcById.get(t.ServiceID)!;
      const atts: NetworkAttachment[] = [];
      for (const a of nets(s)) {
        const n = networks.get(a.Target);
        const alloc = n && ipam.network(n.Id);
        if (!n || !alloc) continue;
        atts.push({ Network: networkRef(n), Addresses: [`${ipam.allocateAddress(n.Id, `task:${t.ID}`)}/${prefixOf(alloc.subnet)}`] });
      }
      out.tasks.set(t.ID, atts);
    }
  });
  return out;

  function sameVips(s: PlanService & { Endpoint?: any }): boolean {
    const have = new Set<string>((s.Endpoint?.VirtualIPs ?? []).map((v: VirtualIP) => v.NetworkID));
    const want = nets(s).map((a) => a.Target);
    return have.size === want.length && want.every((id) => have.has(id));
  }
}

export function networkRef(n: SwarmNetwork): NetworkAttachment['Network'] {
  return {
    ID: n.Id, Spec: { Name: n.Name }, DriverState: { Name: 'overlay', Options: n.Options },
    IPAMOptions: { Configs: n.IPAM.Config.map((c) => ({ Subnet: c.Subnet, Gateway: c.Gateway })) },
  };
}

/** What a node needs to carry its tasks' networks: the engine's SwarmNetworkView. */
export type OverlayView = SwarmNetworkView;

/** A network as a node sees it before anything is on it: no peers, names or VIPs yet. */
export function networkView(n: SwarmNetwork): OverlayView {
  return {
    id: n.Id, name: n.Name, vni: Number(n.Options['com.docker.network.driver.overlay.vxlanid_list']), subnet: n.IPAM.Config[0].Subnet,
    gateway: n.IPAM.Config[0].Gateway, attachable: n.Attachable, internal: n.Internal, peers: [], names: {}, vips: [],
  };
}

/** The overlay networks `nodeId`'s tasks and standalone containers use, as that node should see them. */
export function overlayViews(nodeId: string, tasks: (PlanTask & { NetworksAttachments?: NetworkAttachment[] })[], services: (PlanService & { Endpoint?: any })[], networks: SwarmNetwork[], nodes: NodeObject[], ipam?: OverlayIpam, attachments: AttachmentObject[] = [], tunnels: Map<string, string> = new Map()): OverlayView[] {
  const live = (t: PlanTask) => t.DesiredState === 'running' && !['complete', 'shutdown', 'failed', 'rejected', 'orphaned'].includes(t.Status.State);
  const used = new Set<string>();
  for (const t of tasks) if (t.NodeID === nodeId && live(t)) for (const a of t.NetworksAttachments ?? []) used.add(a.Network.ID);
  for (const a of attachments) if (a.NodeID === nodeId) used.add(a.NetworkID);
  const addr = new Map(nodes.map((n) => [n.ID, n.Status.Addr]));
  const svcName = new Map(services.map((s) => [s.ID, s.Spec.Name as string]));
  const out: OverlayView[] = [];
  for (const n of networks) {
    // every node carries the ingress network once it has its address there (the mesh answers everywhere)
    const myIngressIp = n.Ingress ? ipam?.addressOf(n.Id, `node:${nodeId}`) : undefined;
    if (!used.has(n.Id) && !myIngressIp) continue;
    // encrypted: the VTEPs are the nodes' WireGuard tunnel addresses (nodes without one are left out)
    const encrypted = isEncrypted(n.Options);
    const vtepOf = (id: string) => (encrypted ? tunnels.get(id) : addr.get(id));
    const v: OverlayView = { ...networkView(n), ...(encrypted ? { encrypted, localVtep: tunnels.get(nodeId) } : {}) };
    const add = (name: string, ip: string) => { (v.names[name.toLowerCase()] ??= []).push(ip); };
    const members = new Set<string>([nodeId]);
    for (const t of tasks) {
      if (!live(t) || !t.NodeID) continue;
      const a = (t.NetworksAttachments ?? []).find((x) => x.Network.ID === n.Id);
      if (!a) continue;
      const ip = a.Addresses[0].split('/')[0];
      members.add(t.NodeID);
      if (t.NodeID !== nodeId && vtepOf(t.NodeID)) v.peers.push({ ip, vtep: vtepOf(t.NodeID)! });
      const name = svcName.get(t.ServiceID) ?? '';
      add(`tasks.${name}`, ip);
      add(`${name}.${t.Slot ?? t.NodeID}.${t.ID}`, ip);
      const s = services.find((x) => x.ID === t.ServiceID);
      if ((s?.Spec.EndpointSpec?.Mode ?? 'vip') === 'dnsrr') add(name, ip);
      for (const al of serviceNetworks(s?.Spec).find((x) => x.Target === n.Id)?.Aliases ?? []) if ((s?.Spec.EndpointSpec?.Mode ?? 'vip') === 'dnsrr') add(al, ip);
    }
    // standalone containers attached to it: reached and resolved (name, aliases) like tasks
    for (const a of attachments) {
      if (a.NetworkID !== n.Id) continue;
      const ip = a.Address.split('/')[0];
      members.add(a.NodeID);
      if (a.NodeID !== nodeId && vtepOf(a.NodeID)) v.peers.push({ ip, vtep: vtepOf(a.NodeID)! });
      for (const name of [a.Name, ...(a.Aliases ?? [])]) if (name) add(name, ip);
    }
    if (n.Ingress && ipam) {
      v.hostIp = myIngressIp;
      for (const other of nodes) {
        const ip = other.ID !== nodeId ? ipam.addressOf(n.Id, `node:${other.ID}`) : undefined;
        if (ip) members.add(other.ID);
        if (ip && vtepOf(other.ID)) v.peers.push({ ip, vtep: vtepOf(other.ID)! });
      }
      v.mesh = [];
      for (const s of services) {
        const preserve = preservesClientIp(s.Spec);
        // preserving the client's address: only this node's own tasks can answer (their replies leave through this node)
        const backends = preserve
          ? tasks.filter((t) => t.ServiceID === s.ID && t.NodeID === nodeId && live(t)).flatMap((t) => (t.NetworksAttachments ?? []).filter((a) => a.Network.ID === n.Id).map((a) => a.Addresses[0].split('/')[0]))
          : v.names[`tasks.${s.Spec.Name.toLowerCase()}`] ?? [];
        for (const p of (s.Endpoint?.Ports ?? []) as PortConfig[]) {
          if ((p.PublishMode ?? 'ingress') !== 'ingress' || !p.PublishedPort) continue;
          v.mesh.push({ name: s.Spec.Name, proto: p.Protocol, publishedPort: p.PublishedPort, targetPort: p.TargetPort, backends: [...backends], ...(preserve ? { preserveClientIp: true } : {}) });
        }
      }
    }
    for (const s of services) {
      const vip = (s.Endpoint?.VirtualIPs ?? []).find((x: VirtualIP) => x.NetworkID === n.Id);
      if (!vip) continue;
      add(s.Spec.Name, vip.Addr.split('/')[0]);
      v.vips.push({ name: s.Spec.Name, vip: vip.Addr.split('/')[0], backends: [...(v.names[`tasks.${s.Spec.Name.toLowerCase()}`] ?? [])] });
      for (const al of serviceNetworks(s.Spec).find((x) => x.Target === n.Id)?.Aliases ?? []) add(al, vip.Addr.split('/')[0]);
    }
    v.members = [...members].map((id) => addr.get(id)?.split(':')[0]).filter((a): a is string => !!a).sort();
    out.push(v);
  }
  return out;
}
