// Small helpers shared by the commands: ids, times, prompts, progress streams, JSON indentation.
import type { IncomingMessage } from 'node:http';
import { jsonStream } from './client.js';
import type { Ctx, IO } from './command.js';

/** docker's stringid.TruncateID: drops an "algo:" prefix and keeps 12 characters. */
export function truncateId(id: string): string {
  const i = id.indexOf(':');
  const s = i >= 0 ? id.slice(i + 1) : id;
  return s.length > 12 ? s.slice(0, 12) : s;
}

function charWidth(cp: number): number {
  // East Asian wide / full-width ranges (approximation of golang.org/x/text/width).
  if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) || (cp >= 0x20000 && cp <= 0x3fffd)) return 2;
  return 1;
}

/** docker's formatter.Ellipsis: truncates to a display width, ending with "…". */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const rs = Array.from(s);
  if (max === 1) return rs[0] ?? '';
  const widths = rs.map((r) => charWidth(r.codePointAt(0)!));
  const total = widths.reduce((a, b) => a + b, 0);
  if (total <= max) return s;
  let w = 0;
  let out = '';
  for (let i = 0; i < rs.length; i++) {
    if (w + widths[i] > max - 1) break;
    w += widths[i];
    out += rs[i];
  }
  return out + '…';
}

/** Go's strconv.Quote for the common cases (docker ps COMMAND column). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function zoneAbbrev(d: Date, env: Record<string, string | undefined>): string {
  const off = -d.getTimezoneOffset();
  if (off === 0 && (!env.TZ || /^(UTC|Etc\/UTC|UTC0|:?UTC|)$/.test(env.TZ))) return 'UTC';
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d);
    const z = parts.find((p) => p.type === 'timeZoneName')?.value;
    if (z && !/^GMT[+-]/.test(z)) return z;
  } catch { /* fall through */ }
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${a % 60 ? pad(a % 60) : ''}`;
}

function offsetString(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** Go's time.Time.String() for a unix time in seconds: "2006-01-02 15:04:05 -0700 MST" (local zone). */
export function goTimeString(unixSeconds: number, env: Record<string, string | undefined> = process.env): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${offsetString(d)} ${zoneAbbrev(d, env)}`;
}

/** RFC 3339 in the local zone, like Go's time.RFC3339 ("2006-01-02T15:04:05Z07:00"). */
export function rfc3339Local(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const off = -d.getTimezoneOffset();
  const z = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${z}`;
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" for a time in nanoseconds (event lines), local zone. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const ns = timeNano % 1_000_000_000n;
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const z = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(ns).padStart(9, '0')}${z}`;
}

/** Reads one line from stdin (resolves '' on EOF). Leaves stdin paused. */
export function readLine(stdin: IO['stdin']): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const cleanup = () => {
      stdin.removeListener('data', onData);
      stdin.removeListener('end', onEnd);
      stdin.removeListener('error', onEnd);
      stdin.pause();
    };
    const onData = (d: Buffer | string) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) { cleanup(); resolve(buf.slice(0, i)); }
    };
    const onEnd = () => { cleanup(); resolve(buf); };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
    stdin.resume();
  });
}

/** docker's prompt.Confirm: prints "<message> [y/N] " and reads an answer; true only for y/Y. */
export async function confirm(ctx: Ctx, message: string): Promise<boolean> {
  ctx.out(`${message} [y/N] `);
  const answer = (await readLine(ctx.io.stdin)).trim();
  return answer.toLowerCase() === 'y';
}

export interface JsonMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: unknown;
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: any;
}

/**
 * docker's jsonmessage.DisplayJSONMessagesStream for a non-terminal: prints "stream" text as is and
 * "id: status" lines; an error message in the stream rejects (printed without the daemon prefix).
 */
export async function displayJsonMessages(res: IncomingMessage | AsyncIterable<Buffer>, out: (s: string) => void, onAux?: (aux: any) => void): Promise<void> {
  for await (const m of jsonStream<JsonMessage>(res as AsyncIterable<Buffer>)) {
    if (m.errorDetail?.message || m.error) throw new Error(m.errorDetail?.message || m.error);
    if (m.aux !== undefined) { onAux?.(m.aux); continue; }
    if (m.stream !== undefined) { out(m.stream); continue; }
    if (m.status !== undefined) {
      let line = m.id ? `${m.id}: ${m.status}` : m.status;
      if (m.progress && !m.progressDetail) line += ` ${m.progress}`;
      out(line + '\n');
    }
  }
}

/** Go's json.Indent over raw JSON text: keeps the daemon's own encoding of values, re-indents structure. */
export function indentJson(raw: string, indent = '    '): string {
  let out = '';
  let depth = 0;
  let inStr = false;
  let esc = false;
  const nl = () => '\n' + indent.repeat(depth);
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inStr) {
      out += c;
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === ' ' || c === '\n' || c === '\t' || c === '\r') continue;
    if (c === '"') { inStr = true; out += c; continue; }
    if (c === '{' || c === '[') {
      // empty containers stay compact
      let j = i + 1;
      while (j < raw.length && /\s/.test(raw[j])) j++;
      if (raw[j] === (c === '{' ? '}' : ']')) { out += c + raw[j]; i = j; continue; }
      depth++;
      out += c + nl();
      continue;
    }
    if (c === '}' || c === ']') { depth--; out += nl() + c; continue; }
    if (c === ',') { out += ',' + nl(); continue; }
    if (c === ':') { out += ': '; continue; }
    out += c;
  }
  return out;
}

/** Splits "a=b" into [a, b] ("a" → [a, undefined]). */
export function splitKV(s: string): [string, string | undefined] {
  const i = s.indexOf('=');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

/** Docker's since/until values: durations ("10m") become now minus the duration; RFC 3339 / unix stay. */
export function timestampParam(value: string | undefined, now = Date.now()): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(value)) return value;
  const dur = parseGoDuration(value);
  if (dur !== undefined) {
    const t = (now - dur) / 1000;
    const s = Math.floor(t);
    const ns = Math.round((t - s) * 1e9);
    return `${s}.${String(ns).padStart(9, '0')}`;
  }
  // RFC 3339 and friends ("2006-01-02", "2006-01-02T15:04:05", with zone or not)
  const d = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00` : value);
  if (Number.isNaN(d)) throw new Error(`failed to parse value as time or duration: "${value}"`);
  const frac = /\.(\d+)/.exec(value.replace(/^[^T]*T/, ''))?.[1] ?? '';
  const s = Math.floor(d / 1000);
  return `${s}.${(frac + '000000000').slice(0, 9)}`;
}

/** Go's time.ParseDuration in milliseconds (undefined if not a duration). */
export function parseGoDuration(s: string): number | undefined {
  if (s === '0') return 0;
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!m) return undefined;
  const unitMs: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(s))) total += Number(p[1]) * unitMs[p[2]];
  return m[1] === '-' ? -total : total;
}

/** Writes to a stream and waits for it to drain when needed. */
export function writeAsync(w: NodeJS.WritableStream, data: Buffer | string): Promise<void> {
  return new Promise((resolve) => { if (w.write(data)) resolve(); else w.once('drain', () => resolve()); });
}
