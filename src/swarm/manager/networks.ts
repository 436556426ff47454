import { BadRequest, Conflict, Forbidden } from '../../api/errors.js';
import type { SwarmStore } from '../backend.js';
import { findByRef } from './find-ref.js';
import { newSwarmId } from './objects.js';
import { OverlayIpam, type OverlayIpamState } from './overlay-ipam.js';

// Swarm-scoped (overlay) networks: network objects in Docker's shape under /shoal/networks/, and
// the cluster's overlay IPAM state (subnets, VNIs, VIP/task/node addresses) as one etcd key that
// every change rewrites with compare-and-swap, so any manager (a new leader too) can allocate.

export const NET = {
  network: (id: string) => `/shoal/networks/${id}`, networks: '/shoal/networks/', ipam: '/shoal/overlay-ipam',
  /** standalone containers' network attachments (attachments.ts) */
  attachment: (id: string) => `/shoal/attachments/${id}`, attachments: '/shoal/attachments/',
};
const VXLAN_OPT = 'com.docker.network.driver.overlay.vxlanid_list';

export interface SwarmNetwork {
  Name: string; Id: string; Created: string; Scope: 'swarm'; Driver: 'overlay'; EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean; Attachable: boolean; Ingress: boolean; ConfigFrom: { Network: string }; ConfigOnly: boolean;
  Containers: null; Options: Record<string, string>; Labels: Record<string, string>;
}

/** The allocator state, created on first use from the cluster's default address pool. */
export async function withIpam<T>(store: SwarmStore, pools: { pool?: string[]; size?: number }, fn: (ipam: OverlayIpam) => T): Promise<T> {
  let result!: T;
  const cur = await store.get<OverlayIpamState>(NET.ipam);
  if (!cur) {
    const fresh = OverlayIpam.create(pools.pool?.length ? pools.pool : undefined, pools.size || undefined);
    result = fn(fresh);
    await store.put(NET.ipam, fresh.toState());
    return result;
  }
  await store.update<OverlayIpamState>(NET.ipam, (state) => {
    const ipam = OverlayIpam.fromState(state);
    result = fn(ipam);
    return ipam.toState();
  });
  return result;
}

export async function readIpam(store: SwarmStore): Promise<OverlayIpam | undefined> {
  const s = await store.get<OverlayIpamState>(NET.ipam);
  return s ? OverlayIpam.fromState(s) : undefined;
}

export async function listNetworks(store: SwarmStore): Promise<SwarmNetwork[]> {
  return store.list<SwarmNetwork>(NET.networks);
}

export async function findNetwork(store: SwarmStore, ref: string): Promise<SwarmNetwork> {
  const all = (await listNetworks(store)).map((n) => ({ ...n, ID: n.Id }));
  const { ID: _id, ...hit } = findByRef(all, ref, 'network', (n) => n.Name);
  return hit;
}

/** POST /networks/create with Driver overlay on a manager. */
export async function createNetwork(store: SwarmStore, body: any, pools: { pool?: string[]; size?: number }): Promise<{ Id: string; Warning: string }> {
  const name = String(body?.Name ?? '');
  if (!name) throw new BadRequest('network name must be provided');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new BadRequest(`rpc error: code = InvalidArgument desc = name must be valid as a DNS name component`);
  if ((await listNetworks(store)).some((n) => n.Name === name)) throw new Conflict(`network with name ${name} already exists`);
  if (body?.EnableIPv6) throw new BadRequest('IPv6 overlay networks are not supported by shoal');
  const cfg = body?.IPAM?.Config?.[0] ?? {};
  const options: Record<string, string> = { ...(body?.Options ?? {}) };
  const vni = options[VXLAN_OPT] ? Number(options[VXLAN_OPT]) : undefined;
  const id = newSwarmId();
  const alloc = await withIpam(store, pools, (ipam) => ipam.allocateNetwork(id, { subnet: cfg.Subnet, gateway: cfg.Gateway, ipRange: cfg.IPRange, vni }));
  const net: SwarmNetwork = {
    Name: name, Id: id, Created: new Date().toISOString(), Scope: 'swarm', Driver: 'overlay', EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [{ Subnet: alloc.subnet, Gateway: alloc.gateway, ...(alloc.ipRange ? { IPRange: alloc.ipRange } : {}) }] },
    Internal: !!body?.Internal, Attachable: !!body?.Attachable, Ingress: !!body?.Ingress, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: null, Options: { ...options, [VXLAN_OPT]: String(alloc.vni) }, Labels: body?.Labels ?? {},
  };
  await store.put(NET.network(id), net);
  return { Id: id, Warning: '' };
}

/** DELETE /networks/{id}: refused while a service or a standalone container uses the network. */
export async function removeNetwork(store: SwarmStore, ref: string, services: { ID: string; Spec: any }[], pools: { pool?: string[]; size?: number }): Promise<void> {
  const n = await findNetwork(store, ref);
  const user = services.find((s) => (s.Spec.TaskTemplate?.Networks ?? s.Spec.Networks ?? []).some((a: any) => a.Target === n.Id || a.Target === n.Name));
  if (user) throw new Forbidden(`rpc error: code = FailedPrecondition desc = network ${n.Id} is in use by service ${user.ID}`);
  // a standalone container attached to it holds an attachment task (swarmkit's words for it)
  const att = (await store.list<{ ID: string; NetworkID: string }>(NET.attachments)).find((a) => a.NetworkID === n.Id);
  if (att) throw new Forbidden(`rpc error: code = FailedPrecondition desc = network ${n.Id} is in use by task ${att.ID}`);
  await store.delete(NET.network(n.Id));
  await withIpam(store, pools, (ipam) => ipam.releaseNetwork(n.Id));
}

/** The VNI of a network object. */
export function vniOf(n: SwarmNetwork): number {
  return Number(n.Options[VXLAN_OPT]);
}

/** The routing mesh's network: made at swarm init (and again if missing), like Docker's `ingress`. */
export async function ensureIngress(store: SwarmStore, pools: { pool?: string[]; size?: number }, subnet?: string): Promise<SwarmNetwork> {
  const have = (await listNetworks(store)).find((n) => n.Ingress);
  if (have) return have;
  const { Id } = await createNetwork(store, { Name: 'ingress', Driver: 'overlay', Ingress: true, ...(subnet ? { IPAM: { Config: [{ Subnet: subnet }] } } : {}) }, pools);
  return (await store.get<SwarmNetwork>(NET.network(Id)))!;
}
