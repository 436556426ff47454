// Test helpers for the CLI's unit tests: a fake Engine API daemon on a temporary unix socket and
// in-memory standard streams. (Unit tests only; integration tests use the real daemon.)
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { IO } from './command.js';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  json(): any;
}

export type FakeHandler = (req: FakeRequest, res: ServerResponse) => void | Promise<void>;
export type FakeUpgradeHandler = (req: FakeRequest, socket: Duplex) => void | Promise<void>;

export interface FakeDaemon {
  host: string;
  requests: FakeRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Routes are keyed "METHOD /path" (path without the /v1.41 prefix); upgrade routes likewise.
 * Unknown routes answer 404 {"message":"page not found"}.
 */
export async function fakeDaemon(routes: Record<string, FakeHandler>, upgrades: Record<string, FakeUpgradeHandler> = {}): Promise<FakeDaemon> {
  const dir = mkdtempSync(path.join(tmpdir(), 'shoal-cli-test-'));
  const sock = path.join(dir, 'd.sock');
  const requests: FakeRequest[] = [];
  const mk = (req: IncomingMessage, body: Buffer): FakeRequest => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname.replace(/^\/v\d+\.\d+/, '');
    const r: FakeRequest = { method: req.method ?? 'GET', path: p, query: url.searchParams, headers: req.headers, body, json: () => JSON.parse(body.toString() || 'null') };
    requests.push(r);
    return r;
  };
  const server = http.createServer(async (req, res) => {
    const r = mk(req, await readBody(req));
    const h = routes[`${r.method} ${r.path}`];
    if (!h) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'page not found' }));
      return;
    }
    await h(r, res);
  });
  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const r = mk(req, Buffer.alloc(0));
    const h = upgrades[`${r.method} ${r.path}`];
    if (head.length) socket.unshift(head);
    if (!h) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{"message":"page not found"}');
      return;
    }
    await h(r, socket);
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  return {
    host: `unix://${sock}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body) + '\n');
}

export const UPGRADED = 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n';

class Sink extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void { this.text += chunk.toString(); cb(); }
}

export interface TestIO extends IO {
  stdout: Sink;
  stderr: Sink;
  stdin: PassThrough & { isTTY?: boolean };
}

/** In-memory stdin/stdout/stderr; stdin is ended unless `input` is null (then left open). */
export function testIO(input: string | null = '', env: Record<string, string | undefined> = {}): TestIO {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  if (input !== null) stdin.end(input);
  return { stdout: new Sink(), stderr: new Sink(), stdin, env } as unknown as TestIO;
}
