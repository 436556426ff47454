import { ApiError, BadRequest, Forbidden, ServerError } from '../../api/errors.js';
import { contains, firstHost, formatCidr, intToIp, ipToInt, macFor, nextFree, overlaps, parseCidr, pickSubnet, type Cidr } from '../../engine/networks/ipam.js';

// The cluster-wide allocator for overlay networks, run by the leader: a subnet and a VXLAN ID per
// network, and addresses inside it (gateway, service VIPs, task endpoints, one LB/ingress endpoint
// per node). No I/O: the whole allocation is one JSON-serialisable state object (toState), so the
// manager keeps it in etcd and a new leader rebuilds the allocator from it (fromState).
//
// Docker facts followed here:
// - Subnets come from the cluster's default address pool (10.0.0.0/8 split into /24s unless
//   `swarm init --default-addr-pool/--default-addr-pool-mask-length` say otherwise), the first one
//   overlapping no other network. `ingress` is 10.255.0.0/16 (Docker's long-standing default, in the
//   books), so the first user overlay gets 10.0.0.0/24; with a pool given at init, ingress takes the
//   pool's first subnet, as Docker 20.10 does.
// - The gateway is the subnet's first address unless given (--gateway).
// - Addresses and VNIs are handed out serially (swarmkit's allocators do that), continuing after
//   the last one given, so a released address is not reused at once (stale ARP/conntrack on nodes).
// - VNIs start at 4096 (IDs below overlap 802.1Q VLAN IDs) up to 2^24-1; a VNI can be requested
//   (`com.docker.network.driver.overlay.vxlanid_list`).
//
// Owners of addresses are free-form strings, by convention `gateway`, `vip:<service id>`,
// `task:<task id>`, `node:<node id>` (the node's own endpoint: ingress SNAT address / LB endpoint).
// Allocation is idempotent per owner: asking again returns the address the owner already holds,
// so a reconcile pass can simply allocate for everything it sees.

export const DEFAULT_ADDR_POOL: readonly string[] = ['10.0.0.0/8'];
export const DEFAULT_SUBNET_SIZE = 24;
export const VNI_START = 4096;
export const VNI_END = 2 ** 24 - 1;
export const GATEWAY_OWNER = 'gateway';

export interface OverlayNetworkAlloc {
  subnet: string; // CIDR
  gateway: string;
  /** addresses are allocated from this part of the subnet (--ip-range), when set */
  ipRange?: string;
  /** the subnet was given by the user (--subnet) rather than taken from the pool */
  userSubnet: boolean;
  vni: number;
  /** the last address handed out; the next allocation continues after it */
  last: string;
  /** address → owner, in address order */
  addresses: Record<string, string>;
}

export interface OverlayIpamState {
  version: 1;
  pools: string[];
  subnetSize: number;
  /** the last VNI handed out from the range (serial allocation) */
  lastVni: number;
  /** network id → allocation, in id order */
  networks: Record<string, OverlayNetworkAlloc>;
}

export interface NetworkRequest {
  /** --subnet */
  subnet?: string;
  /** --gateway (needs subnet) */
  gateway?: string;
  /** --ip-range (needs subnet) */
  ipRange?: string;
  /** a fixed VXLAN ID (the overlay driver's vxlanid_list option) */
  vni?: number;
  /** subnets a pool pick must not overlap (e.g. networks the nodes use locally) */
  avoid?: string[];
}

/** Docker's MAC for an IPv4 address: 02:42 and the four address bytes. */
export function macFromIp(ip: string): string {
  return macFor(ipToInt(ip));
}

/** Checks a default address pool as `swarm init` does; returns it normalised. */
export function validateAddrPool(pools: readonly string[], subnetSize: number): { pools: string[]; subnetSize: number } {
  if (!Number.isInteger(subnetSize) || subnetSize < 0) throw new BadRequest(`invalid subnet size: ${subnetSize}`);
  // 29 leaves 6 usable addresses; smaller subnets could not hold the gateway, a VIP and LB endpoints
  if (subnetSize > 29) throw new BadRequest(`subnet size is out of range: ${subnetSize}`);
  if (pools.length === 0) throw new BadRequest('default address pool must not be empty');
  const out: string[] = [];
  for (const p of pools) {
    let c: Cidr;
    try { c = parseCidr(p); } catch { throw new BadRequest(`invalid base pool ${JSON.stringify(p.trim())}: invalid CIDR address: ${p.trim()}`); }
    if (subnetSize < c.prefix) throw new BadRequest(`invalid CIDR: ${JSON.stringify(p.trim())}. Subnet size is too small for pool: ${subnetSize}`);
    out.push(formatCidr(c));
  }
  return { pools: out, subnetSize };
}

const sortedRecord = <T>(r: Record<string, T>, cmp: (a: string, b: string) => number): Record<string, T> =>
  Object.fromEntries(Object.keys(r).sort(cmp).map((k) => [k, r[k]!]));
const byAddress = (a: string, b: string): number => ipToInt(a) - ipToInt(b);
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function cloneNet(n: OverlayNetworkAlloc): OverlayNetworkAlloc {
  const out: OverlayNetworkAlloc = { subnet: n.subnet, gateway: n.gateway, userSubnet: n.userSubnet, vni: n.vni, last: n.last, addresses: sortedRecord(n.addresses, byAddress) };
  if (n.ipRange) out.ipRange = n.ipRange;
  return out;
}

export class OverlayIpam {
  private constructor(private readonly s: OverlayIpamState) {}

  /** A fresh allocator for a new cluster (pool and size as given to swarm init). */
  static create(pools: readonly string[] = DEFAULT_ADDR_POOL, subnetSize = DEFAULT_SUBNET_SIZE): OverlayIpam {
    const v = validateAddrPool(pools, subnetSize);
    return new OverlayIpam({ version: 1, pools: v.pools, subnetSize: v.subnetSize, lastVni: VNI_START - 1, networks: {} });
  }

  /** Rebuilds the allocator from toState()'s output (an object or its JSON text); checks it. */
  static fromState(state: OverlayIpamState | string): OverlayIpam {
    const raw = typeof state === 'string' ? (JSON.parse(state) as OverlayIpamState) : state;
    if (!raw || raw.version !== 1 || !Array.isArray(raw.pools) || typeof raw.networks !== 'object') throw new Error('overlay IPAM state: unknown format');
    const v = validateAddrPool(raw.pools, raw.subnetSize);
    const ipam = new OverlayIpam({ version: 1, pools: v.pools, subnetSize: v.subnetSize, lastVni: Number(raw.lastVni) || VNI_START - 1, networks: {} });
    const vnis = new Set<number>();
    for (const [id, n] of Object.entries(raw.networks)) {
      const subnet = parseCidr(n.subnet);
      for (const ip of [n.gateway, n.last, ...Object.keys(n.addresses)]) {
        if (!contains(subnet, ipToInt(ip))) throw new Error(`overlay IPAM state: ${ip} is outside ${n.subnet} (network ${id})`);
      }
      if (!Number.isInteger(n.vni) || vnis.has(n.vni)) throw new Error(`overlay IPAM state: bad or duplicate VNI ${n.vni} (network ${id})`);
      vnis.add(n.vni);
      ipam.s.networks[id] = cloneNet({ ...n, subnet: formatCidr(subnet) });
    }
    ipam.s.networks = sortedRecord(ipam.s.networks, byString);
    return ipam;
  }

  /** The whole allocation, canonical (sorted keys): equal allocations serialise to equal JSON. */
  toState(): OverlayIpamState {
    const networks: Record<string, OverlayNetworkAlloc> = {};
    for (const id of Object.keys(this.s.networks).sort(byString)) networks[id] = cloneNet(this.s.networks[id]!);
    return { version: 1, pools: [...this.s.pools], subnetSize: this.s.subnetSize, lastVni: this.s.lastVni, networks };
  }

  get pools(): string[] { return [...this.s.pools]; }
  get subnetSize(): number { return this.s.subnetSize; }

  network(id: string): OverlayNetworkAlloc | undefined {
    const n = this.s.networks[id];
    return n && cloneNet(n);
  }

  networkIds(): string[] { return Object.keys(this.s.networks).sort(byString); }

  /**
   * Subnet, gateway and VNI for a network. Idempotent: a network that already has an allocation
   * gets it back (the request is not re-checked).
   */
  allocateNetwork(id: string, req: NetworkRequest = {}): OverlayNetworkAlloc {
    if (!id) throw new BadRequest('network id must be specified');
    const have = this.s.networks[id];
    if (have) return cloneNet(have);
    const used = Object.values(this.s.networks).map((n) => parseCidr(n.subnet));
    let subnet: Cidr;
    let userSubnet = false;
    try {
      if (req.subnet) {
        subnet = parseCidr(req.subnet);
        userSubnet = true;
      } else {
        if (req.gateway || req.ipRange) throw new Error('gateway and ip-range need a subnet');
        const avoid = (req.avoid ?? []).map((a) => parseCidr(a));
        subnet = pickSubnet(this.s.pools.map((base) => ({ base, size: this.s.subnetSize })), [...used, ...avoid]);
      }
    } catch (e) {
      throw new BadRequest((e as Error).message);
    }
    if (subnet.prefix > 30) throw new BadRequest(`invalid subnet ${req.subnet}: too small`);
    if (userSubnet && used.some((u) => overlaps(u, subnet))) throw new Forbidden('Pool overlaps with other one on this address space');
    const gateway = req.gateway ?? intToIp(firstHost(subnet));
    let gw: number;
    try { gw = ipToInt(gateway); } catch { throw new BadRequest(`invalid gateway address: ${gateway}`); }
    if (!contains(subnet, gw)) throw new BadRequest(`no matching subnet for gateway ${gateway}`);
    let ipRange: string | undefined;
    if (req.ipRange) {
      let r: Cidr;
      try { r = parseCidr(req.ipRange); } catch (e) { throw new BadRequest((e as Error).message); }
      if (r.prefix < subnet.prefix || !contains(subnet, r.base)) throw new BadRequest(`invalid ip-range ${req.ipRange}: not in subnet ${formatCidr(subnet)}`);
      ipRange = formatCidr(r);
    }
    const vni = this.takeVni(req.vni, formatCidr(subnet));
    const n: OverlayNetworkAlloc = { subnet: formatCidr(subnet), gateway, userSubnet, vni, last: gateway, addresses: { [gateway]: GATEWAY_OWNER } };
    if (ipRange) n.ipRange = ipRange;
    this.s.networks = sortedRecord({ ...this.s.networks, [id]: n }, byString);
    return cloneNet(n);
  }

  /** Frees the network's subnet, VNI and every address in it. Unknown ids are ignored. */
  releaseNetwork(id: string): void {
    delete this.s.networks[id];
  }

  /**
   * An address on the network for `owner`: `requested` if given (it must be free or already the
   * owner's), else the next free one after the last handed out. Idempotent per owner.
   */
  allocateAddress(networkId: string, owner: string, requested?: string): string {
    const n = this.mustGet(networkId);
    if (!owner) throw new BadRequest('address owner must be specified');
    const held = Object.entries(n.addresses).find(([, o]) => o === owner)?.[0];
    if (held && (!requested || requested === held)) return held;
    if (held) throw new Forbidden(`${owner} already holds ${held} on network ${networkId}`);
    const subnet = parseCidr(n.subnet);
    let ip: number;
    if (requested) {
      try { ip = ipToInt(requested); } catch { throw new BadRequest(`invalid IPv4 address: ${requested}`); }
      const last = subnet.base + 2 ** (32 - subnet.prefix) - 1;
      if (!contains(subnet, ip) || ip === subnet.base || ip === last) throw new BadRequest(`invalid address ${requested}: not a host address of ${n.subnet}`);
      if (n.addresses[intToIp(ip)] !== undefined) throw new Forbidden('Address already in use');
    } else {
      const used = new Set(Object.keys(n.addresses).map(ipToInt));
      const range = n.ipRange ? parseCidr(n.ipRange) : subnet;
      try {
        ip = nextFree(subnet, range, used, ipToInt(n.last));
      } catch {
        throw new ServerError(`no available IPv4 addresses on this network's address pools: ${networkId} (${n.subnet})`);
      }
      n.last = intToIp(ip);
    }
    const addr = intToIp(ip);
    n.addresses = sortedRecord({ ...n.addresses, [addr]: owner }, byAddress);
    return addr;
  }

  /** Releases an address, given as the address itself or its owner. The gateway stays. */
  releaseAddress(networkId: string, ipOrOwner: string): void {
    const n = this.s.networks[networkId];
    if (!n) return;
    for (const [ip, o] of Object.entries(n.addresses)) {
      if ((ip === ipOrOwner || o === ipOrOwner) && o !== GATEWAY_OWNER) delete n.addresses[ip];
    }
  }

  /** Releases every address held by `owner` on every network (a task or node that is gone). */
  releaseOwner(owner: string): void {
    for (const id of Object.keys(this.s.networks)) if (owner !== GATEWAY_OWNER) this.releaseAddress(id, owner);
  }

  addressOf(networkId: string, owner: string): string | undefined {
    const n = this.s.networks[networkId];
    return n ? Object.entries(n.addresses).find(([, o]) => o === owner)?.[0] : undefined;
  }

  private mustGet(id: string): OverlayNetworkAlloc {
    const n = this.s.networks[id];
    if (!n) throw new ApiError(404, `network ${id} not found`);
    return n;
  }

  private takeVni(requested: number | undefined, subnet: string): number {
    const used = new Set(Object.values(this.s.networks).map((n) => n.vni));
    if (requested !== undefined) {
      if (!Number.isInteger(requested) || requested < 1 || requested > VNI_END) throw new BadRequest(`invalid vxlan id value "${requested}" passed`);
      if (used.has(requested)) throw new Forbidden(`could not assign vxlan id ${requested} to pool ${subnet}: id already in use`);
      return requested;
    }
    const span = VNI_END - VNI_START + 1;
    const from = this.s.lastVni >= VNI_START && this.s.lastVni <= VNI_END ? this.s.lastVni - VNI_START + 1 : 0;
    for (let i = 0; i < span; i++) {
      const v = VNI_START + ((from + i) % span);
      if (!used.has(v)) {
        this.s.lastVni = v;
        return v;
      }
    }
    throw new ServerError(`could not obtain vxlan id for pool ${subnet}: no available ids`);
  }
}
