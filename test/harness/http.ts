// Minimal HTTP client over a unix socket (Engine API calls from tests without any CLI).
import http from 'node:http';
import fs from 'node:fs';
import type { Readable } from 'node:stream';

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** body parsed as JSON when it is JSON, else undefined */
  json?: unknown;
}

export interface ApiRequestOptions {
  /** object → JSON body; string/Buffer → as is; a file path via { file } → streamed */
  body?: unknown;
  file?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function apiRequest(socketPath: string, method: string, path: string, opts: ApiRequestOptions = {}): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: 'localhost', ...opts.headers };
    let payload: Buffer | undefined;
    let stream: Readable | undefined;
    if (opts.file !== undefined) {
      stream = fs.createReadStream(opts.file);
      headers['Content-Length'] = String(fs.statSync(opts.file).size);
      headers['Content-Type'] ??= 'application/x-tar';
    } else if (opts.body !== undefined) {
      if (Buffer.isBuffer(opts.body)) payload = opts.body;
      else if (typeof opts.body === 'string') payload = Buffer.from(opts.body);
      else {
        payload = Buffer.from(JSON.stringify(opts.body));
        headers['Content-Type'] ??= 'application/json';
      }
      headers['Content-Length'] = String(payload.length);
    }
    const req = http.request({ socketPath, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        let json: unknown;
        if (/json/.test(String(res.headers['content-type'] ?? ''))) {
          try { json = JSON.parse(body.toString('utf8')); } catch { /* a JSON stream (several documents) */ }
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: no answer after ${opts.timeoutMs ?? 60_000} ms`)), opts.timeoutMs ?? 60_000);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    if (stream) {
      stream.on('error', (e) => req.destroy(e));
      stream.pipe(req);
    } else req.end(payload);
  });
}

/** true when GET /_ping on the socket answers 200 */
export async function ping(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const r = await apiRequest(socketPath, 'GET', '/_ping', { timeoutMs });
    return r.status === 200;
  } catch {
    return false;
  }
}
