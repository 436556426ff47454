// IPv4 address management: subnets from pools, addresses inside a subnet (or an --ip-range of
// it). Pure functions over integers, so they are easy to test; the network manager supplies what
// is already in use.

export interface Cidr { base: number; prefix: number }
export interface AddressPool { base: string; size: number }

// Docker's default local pools: 172.17-31.0.0/16 then 192.168.0.0/20 slices.
export const DEFAULT_POOLS: AddressPool[] = [
  { base: '172.17.0.0/16', size: 16 }, { base: '172.18.0.0/16', size: 16 }, { base: '172.19.0.0/16', size: 16 },
  { base: '172.20.0.0/14', size: 16 }, { base: '172.24.0.0/14', size: 16 }, { base: '172.28.0.0/14', size: 16 },
  { base: '192.168.0.0/16', size: 20 },
];

export function ipToInt(ip: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip.trim());
  if (!m) throw new Error(`invalid IP address: ${ip}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new Error(`invalid IP address: ${ip}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number { return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0; }

export function parseCidr(s: string): Cidr {
  const [ip, p] = s.trim().split('/');
  const prefix = Number(p);
  if (p === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`invalid CIDR address: ${s}`);
  let base: number;
  try { base = ipToInt(ip); } catch { throw new Error(`invalid CIDR address: ${s}`); }
  return { base: (base & mask(prefix)) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string { return `${intToIp(c.base)}/${c.prefix}`; }

export function size(c: Cidr): number { return 2 ** (32 - c.prefix); }

export function contains(c: Cidr, ip: number): boolean { return ((ip & mask(c.prefix)) >>> 0) === c.base; }

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/** The first subnet of the pools that overlaps none of `used` (Docker's predefined-pool walk). */
export function pickSubnet(pools: AddressPool[], used: Cidr[]): Cidr {
  for (const pool of pools) {
    const base = parseCidr(pool.base);
    if (pool.size < base.prefix) continue;
    const step = 2 ** (32 - pool.size);
    for (let n = base.base; n < base.base + size(base); n += step) {
      const cand = { base: n >>> 0, prefix: pool.size };
      if (!used.some((u) => overlaps(u, cand))) return cand;
    }
  }
  throw new Error('could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
}

/** The default gateway of a subnet: its first host address. */
export function firstHost(c: Cidr): number { return c.prefix >= 31 ? c.base : c.base + 1; }

/**
 * The next free host address in `range` (inside `subnet`), skipping the network and broadcast
 * addresses and everything in `used`. Scans from `after` so released addresses are reused last,
 * as Docker's bitmap allocator does.
 */
export function nextFree(subnet: Cidr, range: Cidr, used: Set<number>, after = 0): number {
  const lo = Math.max(range.base, subnet.base + 1);
  const hi = Math.min(range.base + size(range), subnet.base + size(subnet) - 1); // exclusive; skips broadcast
  const n = hi - lo;
  if (n <= 0) throw new Error('no available IPv4 addresses on this network\'s address pools');
  const start = after >= lo && after < hi ? after + 1 - lo : 0;
  for (let i = 0; i < n; i++) {
    const ip = lo + ((start + i) % n);
    if (!used.has(ip)) return ip;
  }
  throw new Error(`no available IPv4 addresses on this network's address pools: ${formatCidr(subnet)}`);
}

/** Docker derives a container's MAC from its IPv4 address: 02:42 followed by the 4 address bytes. */
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
