import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from '../../daemon/logger.js';

// The embedded DNS server of user-defined networks. Containers query 127.0.0.11, which a nat rule
// in their namespace sends to their network's gateway:53, where this server listens in the
// daemon's namespace; the query's source address says which container asks, so names resolve
// only among the networks that container is on. Other names go to the upstream resolvers.

export interface DnsAnswer { addresses: string[] }
export interface DnsBackend {
  /** A records for `name` as seen by the container at `clientIp`; undefined when not a container name. */
  lookup(clientIp: string, name: string): DnsAnswer | undefined;
  /** Resolvers to forward other names to (the container's --dns, or the daemon's). */
  upstreams(clientIp: string): string[];
}

const FORWARD_TIMEOUT_MS = 3000;
const TTL = 600;

export class EmbeddedDns {
  private listeners = new Map<string, { udp: dgram.Socket; tcp: net.Server }>();

  constructor(private backend: DnsBackend, private log: Logger) {}

  /** Starts answering on ip:53 (idempotent). */
  async listen(ip: string): Promise<void> {
    if (this.listeners.has(ip)) return;
    const udp = dgram.createSocket('udp4');
    udp.on('message', (msg, rinfo) => {
      void this.answer(msg, rinfo.address, 'udp').then((reply) => { if (reply) udp.send(reply, rinfo.port, rinfo.address); },
        (err) => this.log.warn({ err: (err as Error).message }, 'dns query failed'));
    });
    udp.on('error', (err) => this.log.warn({ ip, err: err.message }, 'dns udp error'));
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(53, ip, () => { udp.off('error', reject); resolve(); }); });
    const tcp = net.createServer((sock) => this.serveTcp(sock));
    tcp.on('error', (err) => this.log.warn({ ip, err: err.message }, 'dns tcp error'));
    await new Promise<void>((resolve) => tcp.listen(53, ip, () => resolve())).catch(() => undefined);
    this.listeners.set(ip, { udp, tcp });
  }

  close(ip: string): void {
    const l = this.listeners.get(ip);
    if (!l) return;
    this.listeners.delete(ip);
    l.udp.close();
    l.tcp.close();
  }

  closeAll(): void { for (const ip of [...this.listeners.keys()]) this.close(ip); }

  private serveTcp(sock: net.Socket): void {
    let buf = Buffer.alloc(0);
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => undefined);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        void this.answer(msg, sock.remoteAddress?.replace(/^::ffff:/, '') ?? '', 'tcp').then((reply) => {
          if (!reply || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(reply.length);
          sock.write(Buffer.concat([len, reply]));
        });
      }
    });
  }

  /** Answers one query; undefined drops it (garbage). */
  async answer(msg: Buffer, clientIp: string, transport: 'udp' | 'tcp'): Promise<Buffer | undefined> {
    let query: dnsPacket.Packet;
    try { query = dnsPacket.decode(msg); } catch { return undefined; }
    const q = query.questions?.[0];
    if (!q || query.type !== 'query') return undefined;
    const name = q.name.replace(/\.$/, '');
    const local = this.backend.lookup(clientIp, name);
    if (local) {
      const answers = q.type === 'A'
        ? local.addresses.map((a) => ({ type: 'A' as const, name: q.name, ttl: TTL, class: 'IN' as const, data: a }))
        : [];
      return dnsPacket.encode({
        type: 'response', id: query.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER,
        questions: query.questions, answers,
      });
    }
    for (const up of this.backend.upstreams(clientIp)) {
      const reply = await forward(msg, up, transport).catch(() => undefined);
      if (reply) return reply;
    }
    return dnsPacket.encode({ type: 'response', id: query.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | 2 /* SERVFAIL */, questions: query.questions });
  }
}

function forward(msg: Buffer, server: string, transport: 'udp' | 'tcp'): Promise<Buffer> {
  const [host, port = '53'] = server.split(/:(?=\d+$)/);
  return new Promise((resolve, reject) => {
    if (transport === 'udp') {
      const s = dgram.createSocket('udp4');
      const t = setTimeout(() => { s.close(); reject(new Error('timeout')); }, FORWARD_TIMEOUT_MS);
      s.on('error', (e) => { clearTimeout(t); s.close(); reject(e); });
      s.on('message', (reply) => { clearTimeout(t); s.close(); resolve(reply); });
      s.send(msg, Number(port), host);
      return;
    }
    const sock = net.connect(Number(port), host);
    let buf = Buffer.alloc(0);
    sock.setTimeout(FORWARD_TIMEOUT_MS, () => { sock.destroy(); reject(new Error('timeout')); });
    sock.on('error', reject);
    sock.on('connect', () => { const len = Buffer.alloc(2); len.writeUInt16BE(msg.length); sock.write(Buffer.concat([len, msg])); });
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { sock.destroy(); resolve(buf.subarray(2, 2 + buf.readUInt16BE(0))); }
    });
  });
}
