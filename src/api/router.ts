import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, BadRequest, NotFound } from './errors.js';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
export const MAX_API_VERSION = '1.50';

export interface Ctx {
  req: IncomingMessage;
  /** undefined when the request arrived as an HTTP Upgrade (hijack-only). */
  res?: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  apiVersion: string;
  /** Parsed JSON body ({} when empty). Rejects with 400 on malformed JSON. */
  json<T = any>(): Promise<T>;
  /** Take over the connection as a raw stream, like Docker's attach/exec hijack. */
  hijack(contentType?: string): Duplex;
  /** Set when the handler wrote the response itself (streams). */
  handled: boolean;
  status: number;
}

export type Handler = (ctx: Ctx) => Promise<unknown> | unknown;

interface Route { method: string; re: RegExp; keys: string[]; handler: Handler }

export class Router {
  private routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    // ":name" matches one segment; ":name*" the rest (image names contain slashes).
    const re = new RegExp('^' + pattern.replace(/\/:(\w+)(\*?)/g, (_m, k: string, star: string) => {
      keys.push(k);
      return star ? '/(.+)' : '/([^/]+)';
    }) + '$');
    this.routes.push({ method, re, keys, handler });
    return this;
  }
  get(p: string, h: Handler) { return this.add('GET', p, h); }
  post(p: string, h: Handler) { return this.add('POST', p, h); }
  put(p: string, h: Handler) { return this.add('PUT', p, h); }
  delete(p: string, h: Handler) { return this.add('DELETE', p, h); }
  head(p: string, h: Handler) { return this.add('HEAD', p, h); }

  match(method: string, path: string): { handler: Handler; params: Record<string, string> } {
    let pathMatched = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
      return { handler: r.handler, params };
    }
    if (pathMatched) throw new ApiError(405, `method ${method} not allowed for ${path}`);
    throw new NotFound(`page not found`);
  }
}

/** Splits "/v1.41/containers/json" into the version and the unversioned path; validates the range. */
export function splitVersion(pathname: string): { version: string; path: string } {
  const m = /^\/v(\d+\.\d+)(\/.*)$/.exec(pathname);
  if (!m) return { version: API_VERSION, path: pathname };
  const v = m[1];
  if (cmpVersion(v, MIN_API_VERSION) < 0) {
    throw new BadRequest(`client version ${v} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  if (cmpVersion(v, MAX_API_VERSION) > 0) {
    throw new BadRequest(`client version ${v} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
  }
  return { version: v, path: m[2] };
}

export function cmpVersion(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number);
  const [b1, b2] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
}
