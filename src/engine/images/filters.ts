import { BadRequest } from '../../api/errors.js';

// Docker's `filters` query parameter (api/types/filters): a JSON object mapping a filter name to
// either {"value": true, ...} (current form) or ["value", ...] (legacy form). Generic: not image-specific.

export class Filters {
  constructor(private fields = new Map<string, Set<string>>()) {}

  add(key: string, value: string): this {
    let s = this.fields.get(key);
    if (!s) this.fields.set(key, (s = new Set()));
    s.add(value);
    return this;
  }

  contains(key: string): boolean { return this.fields.has(key); }
  get(key: string): string[] { return [...(this.fields.get(key) ?? [])]; }
  keys(): string[] { return [...this.fields.keys()]; }
  get size(): number { return this.fields.size; }

  /** Rejects filter names the endpoint does not know, with Docker's message. */
  validate(accepted: Iterable<string>): void {
    const ok = new Set(accepted);
    for (const k of this.fields.keys()) if (!ok.has(k)) throw new BadRequest(`invalid filter '${k}'`);
  }

  /** True when the key is absent or one of its values equals `value`. */
  exactMatch(key: string, value: string): boolean {
    const s = this.fields.get(key);
    return !s || s.size === 0 || s.has(value);
  }

  /** Every "k" / "k=v" value of the key must be satisfied by `labels` (AND, like Docker). */
  matchKVList(key: string, labels: Record<string, string> | null | undefined): boolean {
    const s = this.fields.get(key);
    if (!s || s.size === 0) return true;
    if (!labels || Object.keys(labels).length === 0) return false;
    for (const v of s) {
      const i = v.indexOf('=');
      const k = i === -1 ? v : v.slice(0, i);
      if (!Object.prototype.hasOwnProperty.call(labels, k)) return false;
      if (i !== -1 && labels[k] !== v.slice(i + 1)) return false;
    }
    return true;
  }

  /** A boolean-valued filter ("true"/"1" or "false"/"0"); undefined when absent. */
  bool(key: string): boolean | undefined {
    if (!this.contains(key)) return undefined;
    const vals = this.get(key);
    if (vals.length === 1 && (vals[0] === 'true' || vals[0] === '1')) return true;
    if (vals.length === 1 && (vals[0] === 'false' || vals[0] === '0')) return false;
    throw new BadRequest(`invalid filter '${key}=[${vals.join(' ')}]'`);
  }
}

export function parseFilters(json: string | null | undefined): Filters {
  const f = new Filters();
  if (!json) return f;
  let raw: unknown;
  try { raw = JSON.parse(json); } catch (e) {
    throw new BadRequest((e as Error).message);
  }
  if (raw === null) return f;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequest('invalid filter: expected a JSON object');
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(v)) for (const x of v) f.add(k, String(x));
    else if (v && typeof v === 'object') {
      for (const [x, on] of Object.entries(v)) if (on) f.add(k, x);
    } else throw new BadRequest(`invalid filter '${k}'`);
  }
  return f;
}
