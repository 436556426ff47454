import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '../daemon/logger.js';
import type { ApiTls } from '../daemon/tls.js';
import { ApiError, BadRequest } from './errors.js';
import { API_VERSION, type Ctx, Router, splitVersion } from './router.js';
import { tlsListener, type TlsListener } from './tls-listener.js';

const MAX_JSON_BODY = 16 * 1024 * 1024;

export const commonHeaders: Record<string, string> = {
  'Api-Version': API_VERSION,
  'Docker-Experimental': 'false',
  'Ostype': 'linux',
  'Server': 'shoal/0.1.0 (linux)',
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_JSON_BODY) { reject(new BadRequest('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The Content-Length bytes after an upgrade request's headers (from head, then the socket); the rest stays on the socket. */
function takeUpgradeBody(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<Buffer> {
  const len = Number(req.headers['content-length'] ?? 0);
  if (!Number.isSafeInteger(len) || len < 0) return Promise.reject(new BadRequest('invalid Content-Length'));
  if (len > MAX_JSON_BODY) return Promise.reject(new BadRequest('request body too large'));
  const settle = (buf: Buffer): Buffer => {
    if (buf.length > len) socket.unshift(buf.subarray(len));
    return buf.subarray(0, len);
  };
  if (head.length >= len) return Promise.resolve(settle(head));
  return new Promise((resolve, reject) => {
    let buf = head;
    const stop = () => {
      socket.off('data', onData); socket.off('end', onEnd); socket.off('error', onEnd);
      socket.pause();
      // as Node hands the socket to 'upgrade': the next reader starts the flow
      (socket as Duplex & { readableFlowing: boolean | null }).readableFlowing = null;
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= len) { stop(); resolve(settle(buf)); }
    };
    const onEnd = () => { stop(); reject(new BadRequest('unexpected EOF in the request body')); };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onEnd);
  });
}

function rawHead(status: number, reason: string, headers: Record<string, string>): string {
  const all = { ...commonHeaders, ...headers };
  return `HTTP/1.1 ${status} ${reason}\r\n` + Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

export class ApiServer {
  private servers: (http.Server | https.Server)[] = [];
  private tlsListeners: TlsListener[] = [];

  constructor(private router: Router, private log: Logger) {}

  private makeCtx(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex, upgrade: boolean, upgradeBody?: Buffer): { ctx: Ctx; path: string } {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { version, path: p } = splitVersion(url.pathname);
    let hijacked = false;
    const ctx: Ctx = {
      req, res, params: {}, query: url.searchParams, apiVersion: version, handled: false, status: 200,
      async json() {
        const body = upgradeBody ?? await readBody(req);
        if (body.length === 0) return {};
        try { return JSON.parse(body.toString('utf8')); } catch (e) {
          throw new BadRequest(`invalid JSON: ${(e as Error).message}`);
        }
      },
      hijack(contentType = 'application/vnd.docker.raw-stream') {
        if (hijacked) return socket;
        hijacked = true;
        ctx.handled = true;
        socket.write(upgrade
          ? rawHead(101, 'UPGRADED', { 'Content-Type': contentType, Connection: 'Upgrade', Upgrade: 'tcp' })
          : rawHead(200, 'OK', { 'Content-Type': contentType }));
        return socket;
      },
    };
    return { ctx, path: p };
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex, upgrade: boolean, upgradeBody?: Buffer): Promise<void> {
    const started = Date.now();
    let ctx: Ctx | undefined;
    try {
      const made = this.makeCtx(req, res, socket, upgrade, upgradeBody);
      ctx = made.ctx;
      const { handler, params } = this.router.match(req.method ?? 'GET', made.path);
      ctx.params = params;
      const result = await handler(ctx);
      if (ctx.handled) return;
      if (!res) { socket.end(); return; }
      if (result === undefined || ctx.status === 204 || ctx.status === 304) {
        res.writeHead(ctx.status === 200 ? 204 : ctx.status, commonHeaders);
        res.end();
      } else if (typeof result === 'string' || Buffer.isBuffer(result)) {
        res.writeHead(ctx.status, { ...commonHeaders, 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : result);
      } else {
        const body = JSON.stringify(result) + '\n';
        res.writeHead(ctx.status, { ...commonHeaders, 'Content-Type': 'application/json' });
        res.end(req.method === 'HEAD' ? undefined : body);
      }
    } catch (err) {
      const status = err instanceof ApiError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) this.log.error({ err, method: req.method, url: req.url }, 'request failed');
      else this.log.debug({ status, message, method: req.method, url: req.url }, 'request refused');
      if (ctx?.handled || !res) {
        if (!socket.destroyed) {
          if (!ctx?.handled) socket.end(rawHead(status, 'Error', { 'Content-Type': 'application/json' }) + JSON.stringify({ message }) + '\n');
          else socket.destroy();
        }
        return;
      }
      if (res.headersSent) { res.destroy(); return; }
      res.writeHead(status, { ...commonHeaders, 'Content-Type': 'application/json' });
      res.end(status === 304 ? undefined : JSON.stringify({ message }) + '\n');
    } finally {
      this.log.trace({ method: req.method, url: req.url, ms: Date.now() - started }, 'request');
    }
  }

  private makeServer(secure?: ApiTls): http.Server | https.Server {
    const handle = (req: IncomingMessage, res: ServerResponse) => { void this.dispatch(req, res, req.socket, false); };
    const server = secure
      ? https.createServer({
        keepAliveTimeout: 60_000, cert: secure.cert, key: secure.key, ca: secure.ca,
        // --tlsverify: the handshake fails without a client certificate signed by the CA
        requestCert: secure.verifyClients, rejectUnauthorized: secure.verifyClients,
      }, handle)
      : http.createServer({ keepAliveTimeout: 60_000 }, handle);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node leaves an upgrade request's body (exec start's JSON) on the connection: it is read
      // here, or it would reach the container's stdin.
      takeUpgradeBody(req, socket, head).then(
        (body) => this.dispatch(req, undefined, socket, true, body),
        (err: Error) => { if (!socket.destroyed) socket.end(rawHead(400, 'Bad Request', { 'Content-Type': 'application/json', Connection: 'close' }) + JSON.stringify({ message: err.message }) + '\n'); },
      );
    });
    server.on('clientError', (err, socket) => {
      if (!socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    // Requests can stream for hours (logs -f, events, attach).
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    return server;
  }

  /**
   * unix://PATH, or tcp://HOST:PORT (TLS when given; unix sockets never use it, as in dockerd).
   * Returns the address bound (tcp://HOST:0 gets a free port).
   */
  async listen(addr: string, secure?: ApiTls): Promise<string> {
    const m = /^(unix|tcp):\/\/(.+)$/.exec(addr);
    if (!m) throw new Error(`invalid listen address ${addr}: use unix://PATH or tcp://HOST:PORT`);
    if (m[1] === 'unix') {
      const server = this.makeServer();
      const sock = m[2];
      await fs.mkdir(path.dirname(sock), { recursive: true });
      await fs.rm(sock, { force: true });
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(sock, () => resolve()); });
      await fs.chmod(sock, 0o660);
      this.servers.push(server);
      return addr;
    }
    const { host, port } = parseTcpAddr(m[2]);
    const server = this.makeServer(secure);
    const listener = secure ? tlsListener(server as https.Server) : undefined;
    const bound = listener?.server ?? server;
    await new Promise<void>((resolve, reject) => { bound.once('error', reject); bound.listen(port, host, () => resolve()); });
    this.servers.push(server);
    if (listener) this.tlsListeners.push(listener);
    const a = bound.address() as net.AddressInfo;
    return `tcp://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    await Promise.all([
      ...this.tlsListeners.map((l) => l.close()),
      ...this.servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })),
    ]);
  }
}

/** HOST:PORT, [V6]:PORT; like dockerd, a missing host is localhost and a missing port 2375. */
export function parseTcpAddr(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*))(?::(\d*))?$/.exec(s);
  if (!m) throw new Error(`invalid listen address tcp://${s}: use tcp://HOST:PORT`);
  const host = m[1] ?? m[2] ?? '';
  const port = m[3] ? Number(m[3]) : 2375;
  if (port > 65535) throw new Error(`invalid listen address tcp://${s}: bad port`);
  return { host: host || 'localhost', port };
}
