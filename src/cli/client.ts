// A small Docker Engine API client over a unix socket or TCP (node:http, node:https with TLS), with
// hijacking for attach/exec.
import http, { type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { Duplex, Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { ConnectError, DaemonError } from './errors.js';
import type { ClientTls } from './tls.js';

export const API_VERSION = '1.41';
export const DEFAULT_HOST = 'unix:///run/shoal/shoal.sock';

export type QueryValue = string | number | boolean | undefined | null | string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  /** JSON body (serialised with JSON.stringify). */
  body?: unknown;
  /** Raw body: a buffer or a stream (sent chunked). */
  raw?: Buffer | Readable | NodeJS.ReadableStream;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface Hijacked {
  /** The raw bidirectional stream (stdin goes in, stdout/stderr come out). */
  stream: Duplex;
  /** application/vnd.docker.raw-stream or application/vnd.docker.multiplexed-stream */
  contentType: string;
  close(): void;
}

interface Endpoint { socketPath?: string; hostname?: string; port?: number }

/** Parses unix:///path, tcp://host:port and http://host:port (docker's -H syntax). */
export function parseHost(host: string): Endpoint {
  const m = /^([a-z]+):\/\/(.*)$/.exec(host);
  if (!m) {
    if (host.startsWith('/')) return { socketPath: host };
    throw new Error(`unable to parse docker host \`${host}\``);
  }
  const [, proto, rest] = m;
  if (proto === 'unix') {
    if (!rest) throw new Error(`unable to parse docker host \`${host}\``);
    return { socketPath: rest };
  }
  if (proto === 'tcp' || proto === 'http') {
    const hp = rest.replace(/\/.*$/, '');
    const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(hp);
    if (v6) return { hostname: v6[1], port: v6[2] ? Number(v6[2]) : 2375 };
    const [h, p] = hp.split(':');
    return { hostname: h || '127.0.0.1', port: p ? Number(p) : 2375 };
  }
  throw new Error(`Invalid bind address format: ${host}`);
}

/** Builds a query string; arrays repeat the key; booleans become 1/0 like the docker client sends "1". */
export function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) { for (const x of v) sp.append(k, x); continue; }
    if (typeof v === 'boolean') { sp.set(k, v ? '1' : '0'); continue; }
    sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** Docker's filters query parameter: {"key": {"value": true}} from "key=value" strings. */
export function filtersJson(filters: Record<string, string[]> | undefined): string | undefined {
  if (!filters) return undefined;
  const keys = Object.keys(filters);
  if (keys.length === 0) return undefined;
  const out: Record<string, Record<string, boolean>> = {};
  for (const k of keys) {
    out[k] = {};
    for (const v of filters[k]) out[k][v] = true;
  }
  return JSON.stringify(out);
}

/** Parses --filter key=value flags into a map; docker's "bad format of filter (expected name=value)". */
export function parseFilters(list: string[] | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of list ?? []) {
    const i = f.indexOf('=');
    if (i <= 0) throw new Error('bad format of filter (expected name=value)');
    const k = f.slice(0, i).trim().toLowerCase();
    const v = f.slice(i + 1).trim();
    (out[k] ??= []).push(v);
  }
  return out;
}

export class Client {
  readonly endpoint: Endpoint;
  readonly apiVersion: string;
  /** TLS settings, used for tcp:// hosts only (a unix socket ignores them, as with docker) */
  readonly tls?: ClientTls;
  private agent: http.Agent;

  constructor(readonly host: string, opts: { apiVersion?: string; debug?: (msg: string) => void; tls?: ClientTls } = {}) {
    this.endpoint = parseHost(host);
    this.apiVersion = opts.apiVersion ?? API_VERSION;
    this.debug = opts.debug;
    if (!this.endpoint.socketPath) this.tls = opts.tls;
    this.agent = this.tls ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
  }

  /** http.request or, with TLS, https.request */
  private send(o: http.RequestOptions): http.ClientRequest {
    return this.tls ? https.request(o) : http.request(o);
  }

  private debug?: (msg: string) => void;

  path(p: string, query?: Query): string {
    return `/v${this.apiVersion}${p}${buildQuery(query)}`;
  }

  private baseOptions(method: string, path: string, headers: Record<string, string>): http.RequestOptions {
    const o: http.RequestOptions = {
      method, path, headers: { 'User-Agent': `shoal-cli/${this.apiVersion}`, Host: this.endpoint.socketPath ? 'api.moby.localhost' : `${this.endpoint.hostname}:${this.endpoint.port}`, ...headers },
    };
    if (this.endpoint.socketPath) o.socketPath = this.endpoint.socketPath;
    else { o.hostname = this.endpoint.hostname; o.port = this.endpoint.port; }
    if (this.tls) {
      // --tls without --tlsverify: encrypted, but the daemon's certificate is not checked
      Object.assign(o, { rejectUnauthorized: this.tls.verify, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key } satisfies https.RequestOptions);
    }
    return o;
  }

  /** Converts a socket-level failure into docker's "Cannot connect..." error. */
  connectError(err: NodeJS.ErrnoException): Error {
    const code = err.code ?? '';
    if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ENOTSOCK' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND') {
      return new ConnectError(`Cannot connect to the shoal daemon at ${this.host}. Is the daemon running?`, code);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      const where = this.endpoint.socketPath ?? `${this.endpoint.hostname}:${this.endpoint.port}`;
      return new ConnectError(`permission denied while trying to connect to the shoal daemon socket at ${this.host}: dial unix ${where}: connect: permission denied`, code);
    }
    return new ConnectError(`error during connect: ${err.message}`, code);
  }

  /** Sends a request; resolves with the response when its status is < 400, else rejects with DaemonError. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let payload: Buffer | undefined;
    if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] ??= 'application/json';
    } else if (Buffer.isBuffer(opts.raw)) {
      payload = opts.raw;
    }
    if (payload) headers['Content-Length'] = String(payload.length);
    const full = this.path(path, opts.query);
    this.debug?.(`${method} ${full}`);
    return new Promise((resolve, reject) => {
      const req = this.send({ ...this.baseOptions(method, full, headers), agent: this.agent, signal: opts.signal });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.name === 'AbortError') { reject(err); return; }
        reject(this.connectError(err));
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readAll(res).then((buf) => reject(daemonErrorFrom(status, buf)), reject);
          return;
        }
        resolve(res);
      });
      if (payload) req.end(payload);
      else if (opts.raw && !Buffer.isBuffer(opts.raw)) {
        const src = opts.raw as Readable;
        src.on('error', (e) => req.destroy(e));
        src.pipe(req);
      } else req.end();
    });
  }

  /** A request whose answer is JSON (or empty → undefined). */
  async json<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const buf = await readAll(res);
    if (buf.length === 0) return undefined as T;
    const text = buf.toString('utf8');
    try { return JSON.parse(text) as T; } catch { return text as unknown as T; }
  }

  /** A request whose body is ignored. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<IncomingMessage> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise<void>((r) => { if (res.complete) r(); else { res.on('end', () => r()); res.on('close', () => r()); } });
    return res;
  }

  get<T = any>(path: string, query?: Query): Promise<T> { return this.json<T>('GET', path, { query }); }
  post<T = any>(path: string, query?: Query, body?: unknown): Promise<T> { return this.json<T>('POST', path, { query, body }); }
  delete<T = any>(path: string, query?: Query): Promise<T> { return this.json<T>('DELETE', path, { query }); }
  async head(path: string, query?: Query): Promise<IncomingHttpHeaders> {
    const res = await this.call('HEAD', path, { query });
    return res.headers;
  }

  /** GET /_ping: resolves with the response headers (API-Version, OSType...). */
  async ping(): Promise<IncomingHttpHeaders> {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = this.send({ ...this.baseOptions('GET', '/_ping', {}), agent: this.agent });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectError(err)));
      req.on('response', resolve);
      req.end();
    });
    const buf = await readAll(res);
    if ((res.statusCode ?? 0) >= 400) throw daemonErrorFrom(res.statusCode ?? 500, buf);
    return res.headers;
  }

  /**
   * Hijacks the connection like docker's attach/exec-start: sends "Connection: Upgrade, Upgrade: tcp",
   * accepts "101 UPGRADED" (or a plain 200 raw stream) and exposes the raw duplex stream.
   */
  hijack(path: string, opts: { query?: Query; body?: unknown } = {}): Promise<Hijacked> {
    const payload = opts.body !== undefined ? Buffer.from(JSON.stringify(opts.body)) : undefined;
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp' };
    if (payload) { headers['Content-Type'] = 'application/json'; headers['Content-Length'] = String(payload.length); }
    const full = this.path(path, opts.query);
    this.debug?.(`POST ${full} (hijack)`);
    return new Promise((resolve, reject) => {
      const req = this.send({ ...this.baseOptions('POST', full, headers), agent: false });
      req.on('error', (err: NodeJS.ErrnoException) => reject(this.connectError(err)));
      req.on('upgrade', (res, socket: Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        socket.setNoDelay?.(true);
        resolve({ stream: socket, contentType: String(res.headers['content-type'] ?? ''), close: () => socket.destroy() });
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 400) {
          readAll(res).then((buf) => reject(daemonErrorFrom(status, buf)), reject);
          return;
        }
        // A plain 200 raw stream: read from the response, write straight to the socket.
        const sock = res.socket;
        const dup = new Duplex({
          read() { res.resume(); },
          write(chunk, _enc, cb) { sock.write(chunk, cb); },
          final(cb) { try { sock.end(); } catch { /* ignore */ } cb(); },
          destroy(err, cb) { sock.destroy(); cb(err); },
        });
        res.on('data', (d: Buffer) => { if (!dup.push(d)) res.pause(); });
        res.on('end', () => dup.push(null));
        res.on('error', (e) => dup.destroy(e));
        resolve({ stream: dup, contentType: String(res.headers['content-type'] ?? ''), close: () => sock.destroy() });
      });
      req.end(payload);
    });
  }
}

export function daemonErrorFrom(status: number, buf: Buffer): DaemonError {
  const text = buf.toString('utf8').trim();
  let message = text;
  if (text.startsWith('{')) {
    try {
      const j = JSON.parse(text);
      if (typeof j.message === 'string') message = j.message;
    } catch { /* keep the text */ }
  }
  if (!message) message = status === 404 ? 'page not found' : (http.STATUS_CODES[status] ?? `status ${status}`);
  return new DaemonError(status, message);
}

export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * Splits a stream of concatenated JSON values (newline separated or not) into parsed objects,
 * like Go's json.Decoder on a progress or event stream.
 */
export async function* jsonStream<T = any>(src: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  const splitter = new JsonSplitter();
  for await (const chunk of src) {
    for (const text of splitter.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))) yield JSON.parse(text) as T;
  }
  const rest = splitter.rest().trim();
  if (rest) yield JSON.parse(rest) as T;
}

/** Incremental top-level JSON value splitter (objects/arrays; tracks strings and escapes). */
export class JsonSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escape = false;
  private start = -1;
  private pos = 0;

  push(text: string): string[] {
    const out: string[] = [];
    this.buf += text;
    for (; this.pos < this.buf.length; this.pos++) {
      const ch = this.buf[this.pos];
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (ch === '\\') this.escape = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') { this.inString = true; continue; }
      if (ch === '{' || ch === '[') {
        if (this.depth === 0) this.start = this.pos;
        this.depth++;
      } else if (ch === '}' || ch === ']') {
        this.depth--;
        if (this.depth === 0 && this.start >= 0) {
          out.push(this.buf.slice(this.start, this.pos + 1));
          this.buf = this.buf.slice(this.pos + 1);
          this.pos = -1;
          this.start = -1;
        }
      }
    }
    if (this.depth === 0 && this.start < 0) { this.buf = ''; this.pos = 0; }
    return out;
  }

  rest(): string { return this.depth > 0 ? this.buf.slice(Math.max(this.start, 0)) : ''; }
}
