import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../daemon/logger.js';

// The manager's node-to-node endpoint on the swarm port (2377): HTTPS with the node certificate.
// Client certificates are requested but checked per route: a joining node has none yet (it pins
// the CA by the token's digest instead), everything else needs a certificate from this CA, and
// some routes need a manager's.

export interface PeerIdentity { nodeId: string; role: 'manager' | 'worker'; clusterId: string }

export class HttpError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export type Handler = (body: any, peer: PeerIdentity | undefined) => Promise<unknown>;

interface Route { auth: 'none' | 'node' | 'manager'; handler: Handler }

/** A long-lived exchange (the node session): the handler owns the request and response. */
export type StreamHandler = (req: IncomingMessage, res: ServerResponse, peer: PeerIdentity) => void;

export function peerOf(socket: TLSSocket): PeerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert?.subject) return undefined;
  const s = cert.subject as unknown as Record<string, string>;
  const role = s.OU === 'swarm-manager' ? 'manager' : s.OU === 'swarm-worker' ? 'worker' : undefined;
  if (!role || !s.CN || !s.O) return undefined;
  return { nodeId: s.CN, role, clusterId: s.O };
}

export class ControlServer {
  private routes = new Map<string, Route>();
  private streams = new Map<string, StreamHandler>();
  private server?: https.Server;
  /** Set while this server shuts down: the connections it cuts itself say nothing about the peers. */
  closing = false;

  constructor(private log: Logger) {}

  route(path: string, auth: Route['auth'], handler: Handler): this {
    this.routes.set(path, { auth, handler });
    return this;
  }

  /** A streaming route for nodes (any role with a certificate of this cluster's CA). */
  stream(path: string, handler: StreamHandler): this {
    this.streams.set(path, handler);
    return this;
  }

  async listen(host: string, port: number, tls: { caPems: string[]; certPem: string; keyPem: string }): Promise<void> {
    this.server = https.createServer({
      key: tls.keyPem, cert: tls.certPem, ca: tls.caPems, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2',
    }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => { this.server!.off('error', reject); resolve(); });
    });
  }

  /** New certificates (renewal, CA rotation) apply to new connections. */
  setCredentials(tls: { caPems: string[]; certPem: string; keyPem: string }): void {
    this.server?.setSecureContext({ key: tls.keyPem, cert: tls.certPem, ca: tls.caPems });
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    this.closing = true;
    await closeServer(s);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, obj: unknown) => sendJson(res, status, obj);
    try {
      const key = `${req.method} ${req.url?.split('?')[0]}`;
      const st = this.streams.get(key);
      if (st) {
        const peer = peerOf(req.socket as TLSSocket);
        if (!peer) throw new HttpError(401, 'a valid swarm node certificate is required');
        st(req, res, peer);
        return;
      }
      const r = this.routes.get(key);
      if (!r) throw new HttpError(404, 'not found');
      const peer = peerOf(req.socket as TLSSocket);
      if (r.auth !== 'none' && !peer) throw new HttpError(401, 'a valid swarm node certificate is required');
      if (r.auth === 'manager' && peer?.role !== 'manager') throw new HttpError(403, 'Permission denied: unauthorized peer role: rpc error: code = PermissionDenied desc = Permission denied: remote certificate not part of roles: [swarm-manager]');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const c of req) { size += (c as Buffer).length; if (size > 4 << 20) throw new HttpError(413, 'request too large'); chunks.push(c as Buffer); }
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = undefined;
      if (text) { try { body = JSON.parse(text); } catch { throw new HttpError(400, 'malformed JSON'); } }
      send(200, await r.handler(body, peer));
    } catch (err) {
      const status = err instanceof HttpError ? err.status : (err as { status?: number }).status ?? 500;
      if (status >= 500) this.log.warn({ url: req.url, err: (err as Error).message }, 'control request failed');
      send(status, { message: (err as Error).message });
    }
  }
}

/** A JSON call to another node's control port. `pinnedCa` pins the server to that CA. */
export function controlCall<T>(addr: string, path: string, body: unknown, tls: { caPem?: string; certPem?: string; keyPem?: string; insecure?: boolean }, timeoutMs = 5000): Promise<T> {
  const [host, port] = addr.split(/:(?=\d+$)/);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = https.request({
      host, port: Number(port || 2377), path, method: payload ? 'POST' : 'GET', timeout: timeoutMs,
      ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, rejectUnauthorized: !tls.insecure,
      // node certificates name the node, not the address: trust comes from the pinned CA
      checkServerIdentity: () => undefined,
      headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {},
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let obj: any;
        try { obj = text ? JSON.parse(text) : undefined; } catch { obj = { message: text }; }
        if ((res.statusCode ?? 500) >= 400) reject(new HttpError(res.statusCode ?? 500, obj?.message ?? `HTTP ${res.statusCode}`));
        else resolve(obj as T);
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout talking to ${addr}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The server's certificate chain as seen without verification (join: fetch, then pin the CA). */
export function fetchPeerCertificatePem(addr: string): Promise<string> {
  const [host, port] = addr.split(/:(?=\d+$)/);
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port: Number(port || 2377), path: '/ca', method: 'GET', rejectUnauthorized: false, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')).caPem); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout talking to ${addr}`)));
    req.on('error', (e) => reject(new Error(`could not connect to ${addr}: ${e.message}`)));
    req.end();
  });
}

/** A JSON reply (the swarm's HTTPS ports speak JSON, errors as {"message"}). */
export function sendJson(res: ServerResponse, status: number, obj: unknown): void {
  const text = JSON.stringify(obj ?? null);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Stops a server now: open (keep-alive, streaming) connections are cut, not waited for. */
export async function closeServer(s: https.Server | undefined): Promise<void> {
  if (!s) return;
  s.closeAllConnections();
  await new Promise<void>((r) => s.close(() => r()));
}
