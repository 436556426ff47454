import { ApiError, BadRequest, NotFound, statusOf } from '../../api/errors.js';
import type { SwarmStore } from '../backend.js';
import { networkRef, networkView, overlayViews, type NetworkAttachment, type OverlayView } from './net-allocator.js';
import { listNetworks, NET, readIpam, withIpam, type SwarmNetwork } from './networks.js';
import { KEY, newSwarmId, type NodeObject } from './objects.js';
import { listServices, listTasks } from './services.js';
import { readTunnels, tunnelAddrs } from './tunnels.js';

// Network attachments of standalone containers (swarmkit's attachment tasks): a node asks a manager
// to attach one of its containers to an attachable overlay; the manager checks the network, gives
// the container an address from the cluster's overlay IPAM (owner `attachment:<id>`) and records
// the attachment under /shoal/attachments/. Every node's view of the network then counts it (a
// peer, a name), and any manager, a new leader too, can release it: when the node detaches
// (container stopped, removed or disconnected), when the node's assignment requests stop listing
// it, or when the node leaves or is removed.

export interface AttachmentObject {
  ID: string;
  NodeID: string;
  ContainerID: string;
  /** the container's name and its aliases on the network: what the swarm's DNS answers for it */
  Name: string;
  Aliases: string[];
  NetworkID: string;
  /** CIDR */
  Address: string;
  CreatedAt: string;
}

export interface AttachRequest { network: string; containerId: string; name?: string; aliases?: string[]; address?: string }
export interface HeldAttachment { networkId: string; containerId: string }

type Pools = { pool?: string[]; size?: number };

/** How long a new attachment is safe from pruning: a node's report may predate it by one request. */
export const PRUNE_GRACE_MS = 30_000;

export function listAttachments(store: SwarmStore): Promise<AttachmentObject[]> {
  return store.list<AttachmentObject>(NET.attachments);
}

/** Docker's order: full ID, name, unambiguous ID prefix. */
function findNetwork(all: SwarmNetwork[], ref: string): SwarmNetwork | undefined {
  return all.find((n) => n.Id === ref) ?? all.find((n) => n.Name === ref) ?? (() => {
    const p = all.filter((n) => n.Id.startsWith(ref));
    return p.length === 1 ? p[0] : undefined;
  })();
}

/** The swarm network `ref` names, before anything is attached: what a node records at container create. */
export async function lookupNetwork(store: SwarmStore, ref: string): Promise<OverlayView> {
  const n = ref ? findNetwork(await listNetworks(store), ref) : undefined;
  if (!n) throw new NotFound(`network ${ref} not found`);
  return networkView(n);
}

/**
 * Attaches `nodeId`'s container to a network: its address (the one asked for, if any) and the
 * network as that node should now see it. Asking again returns the attachment it already has.
 */
export async function attachNetwork(store: SwarmStore, nodeId: string, req: AttachRequest, pools: Pools): Promise<{ ID: string; Address: string; network: OverlayView }> {
  const ref = String(req?.network ?? '');
  const containerId = String(req?.containerId ?? '');
  if (!ref || !containerId) throw new BadRequest('a network and a container must be specified');
  // Docker's words: the gRPC status of the manager's ResourceAllocator, wrapped by the node
  const refused = (status: number, code: string, desc: string) => new ApiError(status, `Could not attach to network ${ref}: rpc error: code = ${code} desc = ${desc}`);
  const n = findNetwork(await listNetworks(store), ref);
  if (!n) throw refused(404, 'NotFound', `network ${ref} not found`);
  if (!n.Attachable || n.Ingress) throw refused(403, 'PermissionDenied', `network ${ref} not manually attachable`);
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && !!x) : []);
  let att = (await listAttachments(store)).find((a) => a.NodeID === nodeId && a.ContainerID === containerId && a.NetworkID === n.Id);
  // asked again after a rename: the swarm's DNS answers for the new name from now on
  if (att && typeof req.name === 'string' && (att.Name !== req.name || canonicalList(att.Aliases) !== canonicalList(strings(req.aliases)))) {
    att = { ...att, Name: req.name, Aliases: strings(req.aliases) };
    await store.put(NET.attachment(att.ID), att);
  }
  if (!att) {
    const id = newSwarmId();
    const owner = `attachment:${id}`;
    let ip: string;
    try {
      ip = await withIpam(store, pools, (ipam) => ipam.allocateAddress(n.Id, owner, req.address || undefined));
    } catch (e) {
      throw new ApiError(statusOf(e), `Could not attach to network ${ref}: ${(e as Error).message}`);
    }
    att = {
      ID: id, NodeID: nodeId, ContainerID: containerId, Name: typeof req.name === 'string' ? req.name : '', Aliases: strings(req.aliases),
      NetworkID: n.Id, Address: `${ip}/${n.IPAM.Config[0].Subnet.split('/')[1]}`, CreatedAt: new Date().toISOString(),
    };
    try {
      await store.put(NET.attachment(id), att);
    } catch (e) {
      await withIpam(store, pools, (ipam) => ipam.releaseOwner(owner)).catch(() => undefined);
      throw e;
    }
  }
  const [tasks, services, nodes, ipam, all, tunnels] = await Promise.all([listTasks(store), listServices(store), store.list<NodeObject>(KEY.nodes), readIpam(store), listAttachments(store), readTunnels(store)]);
  const view = overlayViews(nodeId, tasks as any, services as any, [n], nodes, ipam, all, tunnelAddrs(tunnels)).find((v) => v.id === n.Id) ?? networkView(n);
  return { ID: att.ID, Address: att.Address, network: view };
}

const canonicalList = (l: string[]) => JSON.stringify([...l].sort());

/** Releases the attachments matching `which`: records first (so no view counts them), then their addresses. */
async function release(store: SwarmStore, pools: Pools, which: (a: AttachmentObject) => boolean): Promise<number> {
  const gone = (await listAttachments(store)).filter(which);
  if (!gone.length) return 0;
  for (const a of gone) await store.delete(NET.attachment(a.ID));
  await withIpam(store, pools, (ipam) => { for (const a of gone) ipam.releaseOwner(`attachment:${a.ID}`); });
  return gone.length;
}

/** The node's container left the network (stopped, removed, disconnected). Unknown ones are ignored. */
export async function detachNetwork(store: SwarmStore, nodeId: string, req: { network?: string; containerId?: string }, pools: Pools): Promise<{}> {
  const containerId = String(req?.containerId ?? '');
  const network = String(req?.network ?? '');
  if (!containerId) throw new BadRequest('a container must be specified');
  await release(store, pools, (a) => a.NodeID === nodeId && a.ContainerID === containerId && (!network || a.NetworkID === network));
  return {};
}

/**
 * A node reports the attachments its containers still hold: the others it had (a detach that never
 * arrived, a container gone while its daemon was down) are released, unless too new to be in the report.
 */
export async function pruneAttachments(store: SwarmStore, nodeId: string, held: HeldAttachment[], pools: Pools, now = Date.now()): Promise<number> {
  const keep = new Set(held.map((h) => `${h.containerId}/${h.networkId}`));
  return release(store, pools, (a) => a.NodeID === nodeId && !keep.has(`${a.ContainerID}/${a.NetworkID}`) && now - Date.parse(a.CreatedAt) > PRUNE_GRACE_MS);
}

/** The node left the swarm or was removed: its attachments go. */
export function releaseNodeAttachments(store: SwarmStore, nodeId: string, pools: Pools): Promise<number> {
  return release(store, pools, (a) => a.NodeID === nodeId);
}

/** An attachment in the shape of Docker's attachment task (`GET /tasks?filters=runtime=attachment`). */
export function attachmentTask(a: AttachmentObject, n?: SwarmNetwork): any {
  const atts: NetworkAttachment[] = n ? [{ Network: networkRef(n), Addresses: [a.Address] }] : [];
  return {
    ID: a.ID, Version: { Index: 0 }, CreatedAt: a.CreatedAt, UpdatedAt: a.CreatedAt, Labels: {},
    Spec: { NetworkAttachment: { ContainerID: a.ContainerID }, Networks: [{ Target: a.NetworkID, Aliases: a.Aliases }], ForceUpdate: 0 },
    ServiceID: '', NodeID: a.NodeID, Status: { Timestamp: a.CreatedAt, State: 'running', Message: 'started', ContainerStatus: {}, PortStatus: {} },
    DesiredState: 'running', NetworksAttachments: atts,
  };
}
