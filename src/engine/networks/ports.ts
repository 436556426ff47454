import dgram from 'node:dgram';
import net from 'node:net';

// Published ports: which host port maps to which container port, and a socket held on every
// published host port. The socket is what makes a taken port fail like Docker's (and keeps other
// programs from binding it); the traffic itself never reaches it, nftables DNATs it first.

export interface PortMapping { proto: 'tcp' | 'udp' | 'sctp'; containerPort: number; hostIp: string; hostPort: number }

type Binding = { HostIp?: string; HostPort?: string };

export function parsePortKey(key: string): { port: number; proto: 'tcp' | 'udp' | 'sctp' } {
  const [p, proto = 'tcp'] = key.split('/');
  const port = Number(p);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new Error(`invalid proto: ${proto}`);
  return { port, proto };
}

function parseHostPorts(s: string | undefined): [number, number] {
  if (!s) return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new Error(`invalid port specification: "${s}"`);
  const lo = Number(m[1]); const hi = Number(m[2] ?? m[1]);
  if (lo < 1 || hi > 65535 || hi < lo) throw new Error(`invalid port specification: "${s}"`);
  return [lo, hi];
}

/** Validates HostConfig.PortBindings early (create time), so a bad spec is a 400 and not a failed start. */
export function validatePortBindings(pb: Record<string, Binding[] | null> | undefined): void {
  for (const [key, list] of Object.entries(pb ?? {})) {
    parsePortKey(key);
    for (const b of list ?? []) {
      parseHostPorts(b.HostPort);
      if (b.HostIp && !net.isIP(b.HostIp)) throw new Error(`invalid host IP: ${b.HostIp}`);
    }
  }
}

/** What a container asks for: explicit bindings, plus every exposed port when PublishAllPorts. */
export function requestedPorts(pb: Record<string, Binding[] | null> | undefined, exposed: Record<string, unknown> | undefined, publishAll: boolean): { key: string; proto: 'tcp' | 'udp' | 'sctp'; port: number; hostIp: string; range: [number, number] }[] {
  const out = [];
  const keys = new Set(Object.keys(pb ?? {}));
  if (publishAll) for (const k of Object.keys(exposed ?? {})) keys.add(k.includes('/') ? k : `${k}/tcp`);
  for (const key of keys) {
    const { port, proto } = parsePortKey(key);
    const list = pb?.[key]?.length ? pb[key]! : publishAll ? [{}] : [];
    for (const b of list) out.push({ key: `${port}/${proto}`, proto, port, hostIp: b.HostIp || '0.0.0.0', range: parseHostPorts(b.HostPort) });
  }
  return out;
}

export class PortAllocator {
  private held = new Map<string, net.Server | dgram.Socket>();

  private static id(proto: string, ip: string, port: number): string { return `${proto}/${ip}:${port}`; }

  private inUse(proto: string, ip: string, port: number): boolean {
    if (this.held.has(PortAllocator.id(proto, ip, port))) return true;
    // 0.0.0.0 conflicts with any address on the same port, and the reverse.
    for (const k of this.held.keys()) {
      const [p, rest] = k.split('/');
      const [hip, hport] = rest.split(/:(?=\d+$)/);
      if (p === proto && Number(hport) === port && (hip === '0.0.0.0' || ip === '0.0.0.0')) return true;
    }
    return false;
  }

  /** Reserves a host port (a fixed one, the first free one of a range, or an ephemeral one). */
  async allocate(proto: 'tcp' | 'udp' | 'sctp', hostIp: string, range: [number, number]): Promise<number> {
    const [lo, hi] = range;
    if (lo === 0) return this.bind(proto, hostIp, 0);
    let lastErr: Error | undefined;
    for (let p = lo; p <= hi; p++) {
      if (this.inUse(proto, hostIp, p)) { lastErr = new Error(`Bind for ${hostIp}:${p} failed: port is already allocated`); continue; }
      try { return await this.bind(proto, hostIp, p); } catch (e) { lastErr = e as Error; }
    }
    throw lastErr ?? new Error(`Bind for ${hostIp}:${lo} failed: port is already allocated`);
  }

  private bind(proto: 'tcp' | 'udp' | 'sctp', hostIp: string, port: number): Promise<number> {
    const errText = (e: NodeJS.ErrnoException) =>
      new Error(`Error starting userland proxy: listen ${proto}4 ${hostIp}:${port}: bind: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : e.message}`);
    if (proto === 'udp') {
      return new Promise((resolve, reject) => {
        const s = dgram.createSocket('udp4');
        s.once('error', (e) => { s.close(); reject(errText(e)); });
        s.bind(port, hostIp, () => {
          const got = s.address().port;
          this.held.set(PortAllocator.id(proto, hostIp, got), s);
          resolve(got);
        });
      });
    }
    return new Promise((resolve, reject) => {
      const srv = net.createServer((sock) => sock.destroy());
      srv.once('error', (e) => reject(errText(e)));
      srv.listen({ port, host: hostIp, exclusive: true, backlog: 1 }, () => {
        const got = (srv.address() as net.AddressInfo).port;
        this.held.set(PortAllocator.id(proto, hostIp, got), srv);
        resolve(got);
      });
    });
  }

  release(proto: string, hostIp: string, port: number): void {
    const k = PortAllocator.id(proto, hostIp, port);
    const h = this.held.get(k);
    if (!h) return;
    this.held.delete(k);
    if (h instanceof net.Server) h.close(); else h.close();
  }

  /** After a daemon restart: hold the ports running containers already publish. */
  async reclaim(proto: 'tcp' | 'udp' | 'sctp', hostIp: string, port: number): Promise<void> {
    if (this.inUse(proto, hostIp, port)) return;
    await this.bind(proto, hostIp, port).catch(() => undefined);
  }
}
