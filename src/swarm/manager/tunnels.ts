import type { SwarmStore } from '../backend.js';
import type { SwarmNetworkView } from '../../engine/networks/network-manager.js';
import { isWireguardKey, TUNNEL_RANGE, type TunnelPeer } from '../../engine/networks/wireguard.js';
import { intToIp, ipToInt, parseCidr } from '../../engine/networks/ipam.js';
import { KEY, NODE_LEFT, type NodeObject } from './objects.js';

// The managers' side of the WireGuard tunnels under encrypted overlays: each node's public key,
// WireGuard port and tunnel address (allocated here from TUNNEL_RANGE) in one etcd key, rewritten
// with compare-and-swap. Nodes report their public key with every /assignments call; the reply
// tells them which peers to have (the nodes they share an encrypted network with) and the key
// rotation they must be at: the leader asks a node for a new pair once its key is older than the
// rotation interval (12 h by default, like swarmkit's IPsec keys). Private keys never leave the
// nodes; a node that leaves or is removed loses its entry, and with it its place in every peer list.

export const TUNNELS_KEY = '/shoal/tunnels';
export const DEFAULT_KEY_ROTATION_MS = 12 * 3600e3;

export interface TunnelEntry {
  /** tunnel address */
  Addr: string;
  PublicKey: string;
  Port: number;
  /** the rotation the published key was made for */
  Epoch: number;
  /** when that key was published */
  KeyAt: string;
  /** the rotation the node must be at (Epoch + 1 asks for a new pair) */
  Rotate: number;
}
export interface TunnelState { Nodes: Record<string, TunnelEntry> }

/** What a node sends with its /assignments call. */
export interface TunnelReport { publicKey: string; keyEpoch: number; port: number }
/** What it gets back: the rotation to be at, and with an encrypted network, its address and peers. */
export interface TunnelReply { keyEpoch: number; address?: string; peers?: TunnelPeer[] }

function validReport(r: any): r is TunnelReport {
  return !!r && isWireguardKey(r.publicKey) && Number.isInteger(r.keyEpoch) && r.keyEpoch >= 0
    && Number.isInteger(r.port) && r.port > 0 && r.port < 65536;
}

/** The lowest free host address of the range. */
function freeAddr(state: TunnelState): string {
  const range = parseCidr(TUNNEL_RANGE);
  const used = new Set(Object.values(state.Nodes).map((e) => ipToInt(e.Addr)));
  for (let a = range.base + 1; a < range.base + 2 ** (32 - range.prefix) - 1; a++) if (!used.has(a)) return intToIp(a);
  throw new Error(`no free tunnel address in ${TUNNEL_RANGE}`);
}

/** The state with a node's report in it, or undefined when nothing changes (or the report is stale or bad). */
export function withReport(state: TunnelState, nodeId: string, r: unknown, now: Date): TunnelState | undefined {
  if (!validReport(r)) return undefined;
  const cur = state.Nodes[nodeId];
  if (cur && cur.PublicKey === r.publicKey && cur.Port === r.port && cur.Epoch === r.keyEpoch) return undefined;
  if (cur && r.keyEpoch < cur.Epoch) return undefined;
  const entry: TunnelEntry = {
    Addr: cur?.Addr ?? freeAddr(state), PublicKey: r.publicKey, Port: r.port, Epoch: r.keyEpoch,
    KeyAt: cur && cur.PublicKey === r.publicKey ? cur.KeyAt : now.toISOString(), Rotate: Math.max(cur?.Rotate ?? 0, r.keyEpoch),
  };
  return { Nodes: { ...state.Nodes, [nodeId]: entry } };
}

/** Leader: entries of nodes that are gone dropped, rotation asked of keys older than `intervalMs`. */
export function maintained(state: TunnelState, nodeIds: Set<string>, now: Date, intervalMs: number): TunnelState | undefined {
  let changed = false;
  const Nodes: Record<string, TunnelEntry> = {};
  for (const [id, e] of Object.entries(state.Nodes)) {
    if (!nodeIds.has(id)) { changed = true; continue; }
    if (e.Rotate <= e.Epoch && now.getTime() - Date.parse(e.KeyAt) >= intervalMs) { Nodes[id] = { ...e, Rotate: e.Epoch + 1 }; changed = true; continue; }
    Nodes[id] = e;
  }
  return changed ? { Nodes } : undefined;
}

/** node ID → tunnel address, for the nodes that published a key. */
export function tunnelAddrs(state: TunnelState): Map<string, string> {
  return new Map(Object.entries(state.Nodes).map(([id, e]) => [id, e.Addr]));
}

/** A node's reply: its peers are the nodes whose tunnel addresses its encrypted networks use as VTEPs. */
export function tunnelReply(nodeId: string, state: TunnelState, views: SwarmNetworkView[], nodes: NodeObject[]): TunnelReply {
  const me = state.Nodes[nodeId];
  const encrypted = views.filter((v) => v.encrypted);
  if (!me) return { keyEpoch: 0 };
  if (!encrypted.length) return { keyEpoch: me.Rotate };
  const wanted = new Set(encrypted.flatMap((v) => v.peers.map((p) => p.vtep)));
  const addr = new Map(nodes.map((n) => [n.ID, n.Status.Addr]));
  const peers: TunnelPeer[] = [];
  for (const [id, e] of Object.entries(state.Nodes)) {
    if (id !== nodeId && wanted.has(e.Addr) && addr.get(id)) peers.push({ publicKey: e.PublicKey, endpoint: `${addr.get(id)}:${e.Port}`, address: e.Addr });
  }
  peers.sort((a, b) => ipToInt(a.address) - ipToInt(b.address));
  return { keyEpoch: me.Rotate, address: me.Addr, peers };
}

// ---------- in the store ----------

export async function readTunnels(store: SwarmStore): Promise<TunnelState> {
  return (await store.get<TunnelState>(TUNNELS_KEY)) ?? { Nodes: {} };
}

async function change(store: SwarmStore, fn: (s: TunnelState) => TunnelState | undefined): Promise<TunnelState> {
  const cur = await store.get<TunnelState>(TUNNELS_KEY);
  if (!cur) {
    const first = fn({ Nodes: {} });
    if (first) await store.put(TUNNELS_KEY, first);
    return first ?? { Nodes: {} };
  }
  let result = cur;
  // fn returning undefined writes nothing (the store's update skips it)
  await store.update<TunnelState>(TUNNELS_KEY, (s) => { const next = fn(s); result = next ?? s; return next as TunnelState; });
  return result;
}

/** A node's report: written only when its key (or port) changed, never for a node that left. Returns the current state. */
export async function recordTunnelKey(store: SwarmStore, nodeId: string, report: unknown): Promise<TunnelState> {
  const now = new Date();
  const cur = await readTunnels(store);
  if (!withReport(cur, nodeId, report, now)) return cur;
  const node = await store.get<NodeObject>(KEY.node(nodeId));
  if (!node || node.Status.Message === NODE_LEFT) return cur;
  return change(store, (s) => withReport(s, nodeId, report, now));
}

/** Leader pass: drop entries of removed nodes, ask for new keys where due. */
export async function maintainTunnels(store: SwarmStore, nodes: NodeObject[], intervalMs: number): Promise<void> {
  const now = new Date();
  const ids = new Set(nodes.map((n) => n.ID));
  const cur = await store.get<TunnelState>(TUNNELS_KEY);
  if (!cur || !maintained(cur, ids, now, intervalMs)) return;
  await change(store, (s) => maintained(s, ids, now, intervalMs));
}

/** A node left: its key and address go (peers drop it with their next assignments). */
export async function dropTunnel(store: SwarmStore, nodeId: string): Promise<void> {
  const cur = await store.get<TunnelState>(TUNNELS_KEY);
  if (!cur?.Nodes[nodeId]) return;
  await change(store, (s) => {
    if (!s.Nodes[nodeId]) return undefined;
    const { [nodeId]: _gone, ...Nodes } = s.Nodes;
    return { Nodes };
  });
}
