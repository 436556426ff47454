import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Logger } from '../daemon/logger.js';
import { ApiError, BadRequest } from './errors.js';
import { API_VERSION, type Ctx, Router, splitVersion } from './router.js';

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

/**
 * The body of an HTTP Upgrade request (exec start's JSON): Node hands the connection over right after
 * the headers, so the Content-Length bytes are the first ones on the socket, ahead of the stream's.
 */
function readUpgradeBody(req: IncomingMessage, socket: Duplex): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0)) return Promise.resolve(Buffer.alloc(0));
  if (length > MAX_JSON_BODY) return Promise.reject(new BadRequest('request body too large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const done = (err?: Error) => {
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('error', done);
      if (err) reject(err); else resolve(Buffer.concat(chunks));
    };
    const onEnd = () => done(new BadRequest('unexpected end of request body'));
    const onReadable = () => {
      for (let c: Buffer | null; got < length && (c = socket.read() as Buffer | null) !== null;) {
        if (got + c.length > length) {
          socket.unshift(c.subarray(length - got));
          c = c.subarray(0, length - got);
        }
        chunks.push(c);
        got += c.length;
      }
      if (got >= length) done();
    };
    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('error', done);
    onReadable();
  });
}

function rawHead(status: number, reason: string, headers: Record<string, string>): string {
  const all = { ...commonHeaders, ...headers };
  return `HTTP/1.1 ${status} ${reason}\r\n` + Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n';
}

export class ApiServer {
  private servers: http.Server[] = [];

  constructor(private router: Router, private log: Logger) {}

  private makeCtx(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex, upgrade: boolean): { ctx: Ctx; path: string } {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { version, path: p } = splitVersion(url.pathname);
    let hijacked = false;
    const ctx: Ctx = {
      req, res, params: {}, query: url.searchParams, apiVersion: version, handled: false, status: 200,
      async json() {
        const body = upgrade ? await readUpgradeBody(req, socket) : await readBody(req);
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

  private async dispatch(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex, upgrade: boolean): Promise<void> {
    const started = Date.now();
    let ctx: Ctx | undefined;
    try {
      const made = this.makeCtx(req, res, socket, upgrade);
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

  async listen(addr: string): Promise<void> {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      void this.dispatch(req, res, req.socket, false);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (head.length) socket.unshift(head);
      void this.dispatch(req, undefined, socket, true);
    });
    server.on('clientError', (err, socket) => {
      if (!socket.destroyed) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
    // Requests can stream for hours (logs -f, events, attach).
    server.requestTimeout = 0;
    server.headersTimeout = 60_000;
    const m = /^(unix|tcp):\/\/(.+)$/.exec(addr);
    if (!m) throw new Error(`invalid listen address ${addr}: use unix://PATH or tcp://HOST:PORT`);
    if (m[1] === 'unix') {
      const sock = m[2];
      await fs.mkdir(path.dirname(sock), { recursive: true });
      await fs.rm(sock, { force: true });
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(sock, () => resolve()); });
      await fs.chmod(sock, 0o660);
    } else {
      const [host, port] = m[2].split(/:(?=\d+$)/);
      await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(Number(port), host, () => resolve()); });
    }
    this.servers.push(server);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => { s.close(() => r()); s.closeAllConnections(); })));
  }
}
